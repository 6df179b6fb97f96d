package ZMQ::Constants;
# TEST-ONLY stand-in for CPAN's ZMQ::Constants (Debian does not package it), used by the Vigil
# interop tests to run the real amavis-services / Amavis::ZMQ from Debian's amavisd-new 2.13.
# Only the constants those two files use (plus their obvious siblings), with libzmq 4.x values.
# ZMQ_HWM (libzmq 2 only) is deliberately absent: amavis tests `defined &ZMQ_SNDHWM` first anyway.
use strict;
use warnings;
use Exporter 'import';

our $VERSION = '1.04';

my %c = (
  # socket types
  ZMQ_PAIR => 0, ZMQ_PUB => 1, ZMQ_SUB => 2, ZMQ_REQ => 3, ZMQ_REP => 4,
  ZMQ_DEALER => 5, ZMQ_ROUTER => 6, ZMQ_PULL => 7, ZMQ_PUSH => 8, ZMQ_XPUB => 9, ZMQ_XSUB => 10,
  # socket options
  ZMQ_SUBSCRIBE => 6, ZMQ_UNSUBSCRIBE => 7, ZMQ_RCVMORE => 13, ZMQ_LINGER => 17,
  ZMQ_SNDHWM => 23, ZMQ_RCVHWM => 24, ZMQ_IPV4ONLY => 31,
  # send/recv flags
  ZMQ_DONTWAIT => 1, ZMQ_NOBLOCK => 1, ZMQ_SNDMORE => 2,
  # zmq_device kinds (libzmq 2 only; amavis-services names ZMQ_FORWARDER in its libzmq 2 branch)
  ZMQ_STREAMER => 1, ZMQ_FORWARDER => 2, ZMQ_QUEUE => 3,
  # poll events
  ZMQ_POLLIN => 1, ZMQ_POLLOUT => 2, ZMQ_POLLERR => 4,
);

no strict 'refs';
for my $name (keys %c) {
  my $v = $c{$name};
  *{"ZMQ::Constants::$name"} = sub () { $v };
}
use strict 'refs';

our @EXPORT_OK = sort keys %c;
our %EXPORT_TAGS = (all => [@EXPORT_OK]);

# Option value kinds, for ZMQ::LibZMQ3::zmq_setsockopt/zmq_getsockopt.
our %BINARY_OPTION = (6 => 1, 7 => 1);

1;
