#!/usr/bin/perl
# mdkim.pl - Mail::DKIM (libmail-dkim-perl) as the second DKIM peer of
# tests/test_dkim.c and tests/dkim_interop.sh; keys from a key table
# ("sel._domainkey.dom  TXT-value" lines), never DNS.
#   sign KEYFILE SEL DOM ALG CANON [EXPIRATION] < MSG   print MSG signed
#   verify KEYTABLE FILE     one line per DKIM-Signature, top down:
#                            "pass|fail|invalid|temperror|... detail"
use strict;
use warnings;
use Mail::DKIM;
use Mail::DKIM::Signer;
use Mail::DKIM::Verifier;
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
	my @chunks = unpack('(a255)*', $keys{$n});
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
	my ($fh) = @_;
	local $/;
	my $m = <$fh>;
	$m =~ s/\r?\n/\r\n/g;
	return $m;
}

my $cmd = shift(@ARGV) // '';
binmode(STDOUT);
if ($cmd eq 'sign' and (@ARGV == 5 or @ARGV == 6)) {
	my ($key, $sel, $dom, $alg, $canon, $exp) = @ARGV;
	binmode(STDIN);
	my $msg = slurp_crlf(\*STDIN);
	my $s = Mail::DKIM::Signer->new(Algorithm => $alg, Method => $canon,
	    Domain => $dom, Selector => $sel, KeyFile => $key,
	    Headers => 'from:to:subject:date:message-id',
	    defined $exp ? (Timestamp => $exp - 3600, Expiration => $exp) :
	    ());
	$s->PRINT($msg);
	$s->CLOSE;
	print $s->signature->as_string, "\r\n", $msg;
} elsif ($cmd eq 'verify' and @ARGV == 2) {
	load_keytable($ARGV[0]);
	open(my $fh, '<:raw', $ARGV[1]) or die "$ARGV[1]: $!\n";
	my $msg = slurp_crlf($fh);
	my $v = Mail::DKIM::Verifier->new();
	$v->PRINT($msg);
	$v->CLOSE;
	for my $sig ($v->signatures) {
		my $d = $sig->result_detail // '';
		$d =~ s/\s+/ /g;
		printf("%s %s\n", $sig->result // 'none', $d);
	}
} else {
	die "usage: mdkim.pl sign KEY SEL DOM ALG CANON [EXP] | verify KT FILE\n";
}
