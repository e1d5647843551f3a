# t/lib-port.sh: free TCP ports for the services the tests start on
# 127.0.0.1 (t/lib-slurm.sh, t/lib-sshd.sh).

# free_port: a TCP port on 127.0.0.1 that nothing listens on now.
free_port () {
	perl -MIO::Socket::INET -e '
		my $s = IO::Socket::INET->new(Listen => 1,
			LocalAddr => "127.0.0.1", LocalPort => 0) or die "$!\n";
		print $s->sockport, "\n";'
}
