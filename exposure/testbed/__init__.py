"""The simulated port area on loopback: DNS, web, mail and Shodan look-alikes for tests, demo and benchmarks."""
