#!/usr/bin/perl
# Verifies the DKIM signatures of the message on stdin with Mail::DKIM (Debian libmail-dkim-perl),
# keys fetched from the DNS server at $ARGV[0] (host) / $ARGV[1] (port). One line per signature:
#   <result> d=<domain> s=<selector> a=<algorithm> c=<canonicalization> h=<signed headers> [<detail>]
use strict;
use warnings;
use Mail::DKIM::Verifier;
use Mail::DKIM::DNS;
use Net::DNS::Resolver;

my ($host, $port) = @ARGV;
Mail::DKIM::DNS::resolver(Net::DNS::Resolver->new(
  nameservers => [$host], port => $port, recurse => 0, udp_timeout => 3, tcp_timeout => 3, retry => 1,
));
my $dkim = Mail::DKIM::Verifier->new;
binmode STDIN;
while (<STDIN>) { s/\015?\012\z//; $dkim->PRINT("$_\015\012") }
$dkim->CLOSE;
for my $sig ($dkim->signatures) {
  printf "%s d=%s s=%s a=%s c=%s h=%s%s\n", $sig->result, $sig->domain, $sig->selector, $sig->algorithm,
    scalar($sig->canonicalization), $sig->get_tag("h"), ($sig->result_detail =~ /\((.*)\)/ ? " ($1)" : '');
}
print "none\n" unless $dkim->signatures;
