package ZMQ::LibZMQ3;
# TEST-ONLY compatibility shim: the subset of CPAN's ZMQ::LibZMQ3 API that Debian's amavisd-new 2.13
# (/usr/sbin/amavis-services and Amavis/ZMQ.pm) calls, implemented on the system libzmq through
# FFI::Platypus (Debian: libffi-platypus-perl, pulled in by libzmq-ffi-perl, whose ZMQ::FFI::Util
# locates libzmq). ZMQ::FFI's own socket API is not used because it has no zmq_poll and no raw
# zmq_msg_t objects, both of which amavis-services relies on. Debian ships no ZMQ::LibZMQ3, and the
# project installs Debian packages only. Never used by Vigil itself; see test/interop/README.md.
#
# Covered: zmq_version, zmq_init, zmq_term, zmq_socket, zmq_close, zmq_bind, zmq_connect,
# zmq_setsockopt (int options and SUBSCRIBE/UNSUBSCRIBE), zmq_getsockopt (int options, e.g.
# ZMQ_RCVMORE), zmq_send (buffer, length, flags), zmq_recvmsg, zmq_sendmsg, zmq_msg_data,
# zmq_msg_size, zmq_msg_close, zmq_poll (array of {socket, events, callback}, timeout in ms).
# Semantics as in ZMQ::LibZMQ3: functions return -1 (or undef for objects) and set $! on failure.
use strict;
use warnings;
use Exporter 'import';
use FFI::Platypus 1.00;
use FFI::Platypus::Buffer qw(scalar_to_buffer buffer_to_scalar);
use FFI::Platypus::Memory qw(malloc free);
use ZMQ::Constants ();

our $VERSION = '1.19';
# Like the real module, zmq_version is not exported (amavis defines its own zmq_version and calls
# ZMQ::LibZMQ3::zmq_version() by its full name).
our @EXPORT_OK = qw(zmq_version);
our @EXPORT = qw(
  zmq_init zmq_term zmq_socket zmq_close zmq_bind zmq_connect
  zmq_setsockopt zmq_getsockopt zmq_send zmq_recvmsg zmq_sendmsg
  zmq_msg_data zmq_msg_size zmq_msg_close zmq_poll
);

my $ffi = FFI::Platypus->new(api => 1);
{
  # Under perl -T (amavis-services runs tainted) a library path found at run time is tainted; the
  # soname comes from ZMQ::FFI::Util when it loads, else the Debian soname.
  my $lib = eval { require ZMQ::FFI::Util; ZMQ::FFI::Util::zmq_soname() } || 'libzmq.so.5';
  ($lib) = $lib =~ /\A([\w.\/+-]+)\z/ or die "ZMQ::LibZMQ3 shim: odd libzmq path\n";
  $ffi->lib($lib);
}
use constant MSG_T_SIZE => 64;    # sizeof(zmq_msg_t) in libzmq >= 4.1 (3.x: 32; 64 is enough for both)

$ffi->attach([zmq_version => '_version'] => ['int*', 'int*', 'int*'] => 'void');
$ffi->attach([zmq_errno => '_errno'] => [] => 'int');
$ffi->attach([zmq_init => '_init'] => ['int'] => 'opaque');
$ffi->attach([zmq_term => '_term'] => ['opaque'] => 'int');
$ffi->attach([zmq_socket => '_socket'] => ['opaque', 'int'] => 'opaque');
$ffi->attach([zmq_close => '_close'] => ['opaque'] => 'int');
$ffi->attach([zmq_bind => '_bind'] => ['opaque', 'string'] => 'int');
$ffi->attach([zmq_connect => '_connect'] => ['opaque', 'string'] => 'int');
$ffi->attach([zmq_setsockopt => '_setsockopt'] => ['opaque', 'int', 'opaque', 'size_t'] => 'int');
$ffi->attach([zmq_getsockopt => '_getsockopt'] => ['opaque', 'int', 'opaque', 'size_t*'] => 'int');
$ffi->attach([zmq_send => '_send'] => ['opaque', 'opaque', 'size_t', 'int'] => 'int');
$ffi->attach([zmq_msg_init => '_msg_init'] => ['opaque'] => 'int');
$ffi->attach([zmq_msg_recv => '_msg_recv'] => ['opaque', 'opaque', 'int'] => 'int');
$ffi->attach([zmq_msg_send => '_msg_send'] => ['opaque', 'opaque', 'int'] => 'int');
$ffi->attach([zmq_msg_data => '_msg_data'] => ['opaque'] => 'opaque');
$ffi->attach([zmq_msg_size => '_msg_size'] => ['opaque'] => 'size_t');
$ffi->attach([zmq_msg_close => '_msg_close'] => ['opaque'] => 'int');
$ffi->attach([zmq_poll => '_poll'] => ['opaque', 'int', 'long'] => 'int');

sub _fail { $! = _errno(); return -1 }
sub _ptr { my ($o) = @_; ref $o ? $$o : undef }

sub zmq_version {
  my ($ma, $mi, $pa) = (0, 0, 0);
  _version(\$ma, \$mi, \$pa);
  wantarray ? ($ma, $mi, $pa) : "$ma.$mi.$pa";
}

sub zmq_init {
  my $p = _init(defined $_[0] ? $_[0] : 1);
  if (!$p) { $! = _errno(); return undef }
  bless \$p, 'ZMQ::LibZMQ3::Context';
}

sub zmq_term {
  my ($ctx) = @_;
  my $p = _ptr($ctx) or return -1;
  my $rv = _term($p);
  return _fail() if $rv == -1;
  $$ctx = undef;
  $rv;
}

sub zmq_socket {
  my ($ctx, $type) = @_;
  my $s = _socket(_ptr($ctx), $type);
  if (!$s) { $! = _errno(); return undef }
  bless \$s, 'ZMQ::LibZMQ3::Socket';
}

sub zmq_close {
  my ($sock) = @_;
  my $p = _ptr($sock) or return -1;
  my $rv = _close($p);
  return _fail() if $rv == -1;
  $$sock = undef;
  $rv;
}

sub zmq_bind { my $rv = _bind(_ptr($_[0]), $_[1]); $rv == -1 ? _fail() : $rv }
sub zmq_connect { my $rv = _connect(_ptr($_[0]), $_[1]); $rv == -1 ? _fail() : $rv }

sub zmq_setsockopt {
  my ($sock, $opt, $val) = @_;
  my $buf = $ZMQ::Constants::BINARY_OPTION{$opt} ? "$val" : pack('i', $val);
  my ($ptr, $len) = scalar_to_buffer($buf);
  my $rv = _setsockopt(_ptr($sock), $opt, $ptr, $len);
  $rv == -1 ? _fail() : $rv;
}

sub zmq_getsockopt {    # int-valued options only (RCVMORE, LINGER, HWMs, ...)
  my ($sock, $opt) = @_;
  my $buf = pack('i', 0);
  my ($ptr) = scalar_to_buffer($buf);
  my $len = length $buf;
  my $rv = _getsockopt(_ptr($sock), $opt, $ptr, \$len);
  return _fail() if $rv == -1;
  unpack('i', $buf);
}

sub zmq_send {    # (socket, buffer, length, flags) -> bytes sent or -1
  my ($sock, $data, $len, $flags) = @_;
  $data = '' if !defined $data;
  $len = length $data if !defined $len || $len > length $data;
  my ($ptr) = scalar_to_buffer($data);
  my $rv = _send(_ptr($sock), $ptr, $len, $flags || 0);
  $rv == -1 ? _fail() : $rv;
}

sub zmq_recvmsg {    # (socket, flags) -> ZMQ::LibZMQ3::Message or undef
  my ($sock, $flags) = @_;
  my $m = malloc(MSG_T_SIZE);
  _msg_init($m);
  my $rv = _msg_recv($m, _ptr($sock), $flags || 0);
  if ($rv == -1) {
    my $e = _errno();
    _msg_close($m);
    free($m);
    $! = $e;
    return undef;
  }
  bless \$m, 'ZMQ::LibZMQ3::Message';
}

sub zmq_sendmsg {    # (socket, message, flags) -> bytes or -1; the message is emptied on success
  my ($sock, $msg, $flags) = @_;
  my $rv = _msg_send(_ptr($msg), _ptr($sock), $flags || 0);
  $rv == -1 ? _fail() : $rv;
}

sub zmq_msg_data {
  my ($msg) = @_;
  my $m = _ptr($msg) or return undef;
  my $size = _msg_size($m);
  return '' if !$size;
  buffer_to_scalar(_msg_data($m), $size);
}

sub zmq_msg_size { my $m = _ptr($_[0]) or return -1; _msg_size($m) }

sub zmq_msg_close {
  my ($msg) = @_;
  my $m = _ptr($msg) or return -1;
  my $rv = _msg_close($m);
  free($m);
  $$msg = undef;
  $rv == -1 ? _fail() : $rv;
}

# zmq_poll([{ socket => $sock, events => ZMQ_POLLIN, callback => sub {...} }, ...], $timeout_ms)
# -> number of ready items, or -1 (e.g. EINTR). Calls each ready item's callback, like ZMQ::LibZMQ3.
sub zmq_poll {
  my ($items, $timeout) = @_;
  my $buf = '';
  # struct zmq_pollitem_t { void *socket; int fd; short events; short revents; } (LP64: 16 bytes)
  for my $it (@$items) {
    $buf .= pack('J i s s', _ptr($it->{socket}) || 0, $it->{fd} || 0, $it->{events}, 0);
  }
  my ($ptr) = scalar_to_buffer($buf);
  my $rv = _poll($ptr, scalar @$items, defined $timeout ? $timeout : -1);
  return _fail() if $rv == -1;
  my $size = length(pack('J i s s', 0, 0, 0, 0));
  for my $i (0 .. $#$items) {
    my (undef, undef, undef, $revents) = unpack('J i s s', substr($buf, $i * $size, $size));
    my $it = $items->[$i];
    $it->{callback}->() if ($revents & $it->{events}) && $it->{callback};
  }
  $rv;
}

package ZMQ::LibZMQ3::Message;
sub DESTROY { my ($self) = @_; if ($$self) { ZMQ::LibZMQ3::_msg_close($$self); FFI::Platypus::Memory::free($$self); $$self = undef } }

package ZMQ::LibZMQ3::Socket;
package ZMQ::LibZMQ3::Context;

1;
