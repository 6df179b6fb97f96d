#!/usr/bin/perl
# Signs the message on stdin with Mail::DKIM::Signer (Debian libmail-dkim-perl) and prints it with
# the DKIM-Signature prepended. Arguments: KEYFILE DOMAIN SELECTOR [METHOD] [HEADERS].
use strict;
use warnings;
use Mail::DKIM::Signer;
use Mail::DKIM::TextWrap;

my ($keyfile, $domain, $selector, $method, $headers) = @ARGV;
my $signer = Mail::DKIM::Signer->new(
  Algorithm => 'rsa-sha256', Method => $method || 'relaxed/simple', Domain => $domain,
  Selector => $selector, KeyFile => $keyfile, Timestamp => time(),
  defined $headers ? (Headers => $headers) : (),
);
binmode STDIN;
my $msg = '';
while (<STDIN>) { s/\015?\012\z//; $msg .= "$_\015\012"; $signer->PRINT("$_\015\012") }
$signer->CLOSE;
binmode STDOUT;
print $signer->signature->as_string, "\015\012", $msg;
