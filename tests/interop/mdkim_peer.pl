#!/usr/bin/perl
# mdkim_peer.pl - offline ARC peer for tests/interop.sh, using Debian's
# libmail-dkim-perl (Mail::DKIM::ARC::Verifier and ::Signer).
#
# Contract: keys come from a key table ("sel._domainkey.dom  TXT-value"
# lines, '#' comments, value possibly split in quoted strings) through an
# override of Mail::DKIM::DNS::query; no DNS or network is used.
#   verify KEYTABLE FILE                  print "result (detail)"; exit 0 iff
#                                         the result is pass, 1 otherwise
#   seal KEYTABLE KEY SEL DOM SRVID FILE  verify the chain, prepend
#                                         "Authentication-Results: SRVID;
#                                         arc=<result>", seal with the PEM
#                                         RSA KEY (Chain => 'ar'), print the
#                                         sealed message (CRLF)
#   has-ed25519                           exit 0 iff Mail::DKIM knows the
#                                         ed25519-sha256 algorithm
use strict;
use warnings;
use Mail::DKIM;
use Mail::DKIM::ARC::Verifier;
use Mail::DKIM::ARC::Signer;
use Mail::DKIM::Signature;
use Net::DNS;

my %keys;

sub load_keytable {
	my ($path) = @_;
	open(my $fh, '<', $path) or die "$path: $!\n";
	while (my $line = <$fh>) {
		$line =~ s/^\s+|\s+$//g;
		next if $line eq '' or $line =~ /^#/;
		my ($name, $value) = split(/\s+/, $line, 2);
		next unless defined $value;
		my @q = $value =~ /"((?:[^"\\]|\\.)*)"/g;
		$value = join('', @q) if @q;
		$value =~ s/\s+/ /g;
		$name =~ s/\.$//;
		$keys{lc $name} = $value;
	}
	close($fh);
}

no warnings 'redefine';
*Mail::DKIM::DNS::query = sub {
	my ($name, $type) = @_;
	(my $n = lc $name) =~ s/\.$//;
	return () unless $type eq 'TXT' and exists $keys{$n};
	my $v = $keys{$n};
	my @chunks = unpack('(a255)*', $v);
	return (Net::DNS::RR->new(name => $name, type => 'TXT', ttl => 300,
	    txtdata => \@chunks));
};
*Mail::DKIM::DNS::query_async = sub {
	my ($name, $type, %cb) = @_;
	my $res = $cb{Callbacks}{Success}->(Mail::DKIM::DNS::query($name, $type));
	return sub { $res };
};
use warnings 'redefine';

sub slurp_crlf {
	my ($path) = @_;
	open(my $fh, '<:raw', $path) or die "$path: $!\n";
	local $/;
	my $m = <$fh>;
	close($fh);
	$m =~ s/\r?\n/\r\n/g;
	return $m;
}

sub verify {
	my ($msg) = @_;
	my $v = Mail::DKIM::ARC::Verifier->new();
	$v->PRINT($msg);
	$v->CLOSE;
	return ($v->result, $v->result_detail // '');
}

my $cmd = shift(@ARGV) // '';
if ($cmd eq 'verify' and @ARGV == 2) {
	load_keytable($ARGV[0]);
	my ($r, $d) = verify(slurp_crlf($ARGV[1]));
	print "$r ($d)\n";
	exit($r eq 'pass' ? 0 : 1);
} elsif ($cmd eq 'seal' and @ARGV == 6) {
	my ($kt, $key, $sel, $dom, $srv, $path) = @ARGV;
	load_keytable($kt);
	my $msg = slurp_crlf($path);
	my ($r) = verify($msg);
	$r = 'fail' unless $r =~ /^(pass|none)$/;
	$msg = "Authentication-Results: $srv; arc=$r\r\n" . $msg;
	my $s = Mail::DKIM::ARC::Signer->new(Algorithm => 'rsa-sha256',
	    Chain => 'ar', Domain => $dom, SrvId => lc $srv, Selector => $sel,
	    KeyFile => $key, Timestamp => time());
	$s->PRINT($msg);
	$s->CLOSE;
	if ($s->result ne 'sealed') {
		print STDERR "Mail::DKIM did not seal: ", $s->result, " (",
		    ($s->result_detail // ''), ")\n";
		exit(1);
	}
	binmode(STDOUT);
	print $s->as_string, $msg;
	exit(0);
} elsif ($cmd eq 'has-ed25519') {
	my $c = Mail::DKIM::Signature->get_algorithm_class('ed25519-sha256');
	print "Mail::DKIM $Mail::DKIM::VERSION: ",
	    ($c ? "ed25519-sha256 is $c\n" : "no ed25519-sha256 algorithm\n");
	exit($c ? 0 : 1);
}
print STDERR "usage: see the comment at the top of $0\n";
exit(64);
