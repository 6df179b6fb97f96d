// The test-only ZMQ::LibZMQ3 shim (perl/ZMQ/LibZMQ3.pm) on literal inputs, in one short perl -T run:
// what amavis relies on beyond "it talks": multi-part boundaries (SNDMORE/RCVMORE), message objects,
// zmq_poll callbacks and timeouts, binary SUBSCRIBE prefixes, and -1 with $! on failure.
import { test } from 'node:test'
import assert from 'node:assert/strict'
import { execFileSync } from 'node:child_process'
import { assertAmavisInstalled, SHIM_DIR } from './amavis.ts'

const SCRIPT = String.raw`
use strict; use warnings;
use ZMQ::LibZMQ3; use ZMQ::Constants qw(:all);
my @out;
my $ctx = zmq_init(1) or die "init: $!";
my $pub = zmq_socket($ctx, ZMQ_PUB); my $sub = zmq_socket($ctx, ZMQ_SUB);
push @out, 'setsockopt=' . zmq_setsockopt($sub, ZMQ_SUBSCRIBE, 'am.st ');
push @out, 'linger=' . zmq_setsockopt($pub, ZMQ_LINGER, 0) . ',' . zmq_getsockopt($pub, ZMQ_LINGER);
zmq_bind($pub, 'inproc://shim') == 0 or die "bind: $!";
zmq_connect($sub, 'inproc://shim') == 0 or die "connect: $!";
my $rv = zmq_bind($pub, 'bogus://x');
push @out, "badbind=$rv," . ($!{EPROTONOSUPPORT} ? 'EPROTONOSUPPORT' : "errno $!");
push @out, 'poll-timeout=' . zmq_poll([{ socket => $sub, events => ZMQ_POLLIN, callback => sub { push @out, 'WRONG' } }], 50);
select(undef, undef, undef, 0.2);
zmq_send($pub, 'am.snmp X C32 1', length 'am.snmp X C32 1', 0);   # filtered out by the prefix
zmq_send($pub, "am.st 1 2 A", 11, ZMQ_SNDMORE);
zmq_send($pub, "am.st 1 3 \0b", 12, 0);
my $n = zmq_poll([{ socket => $sub, events => ZMQ_POLLIN, callback => sub {
  for (;;) {
    my $m = zmq_recvmsg($sub) or die "recv: $!";
    my $d = zmq_msg_data($m); $d =~ s/\0/\\0/g;
    my $more = zmq_getsockopt($sub, ZMQ_RCVMORE);
    push @out, "frame=$d|more=$more|size=" . zmq_msg_size($m);
    zmq_msg_close($m);
    last if !$more;
  }
} }], 2000);
push @out, "poll=$n";
push @out, 'nothing-else=' . (defined zmq_recvmsg($sub, ZMQ_DONTWAIT) ? 'NO' : ($!{EAGAIN} ? 'EAGAIN' : "$!"));
zmq_close($_) for $pub, $sub; zmq_term($ctx);
print join("\n", @out), "\n";
`

test('the ZMQ::LibZMQ3 shim keeps multi-part boundaries, prefixes, poll semantics and errno like the real module', () => {
  assertAmavisInstalled()
  const out = execFileSync('/usr/bin/perl', ['-T', '-I', SHIM_DIR, '-e', SCRIPT], { encoding: 'utf8', timeout: 60_000 })
  assert.deepEqual(out.trim().split('\n'), [
    'setsockopt=0',
    'linger=0,0',
    'badbind=-1,EPROTONOSUPPORT',
    'poll-timeout=0',
    'frame=am.st 1 2 A|more=1|size=11',
    'frame=am.st 1 3 \\0b|more=0|size=12',
    'poll=1',
    'nothing-else=EAGAIN',
  ])
})
