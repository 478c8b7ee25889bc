// Package failover holds the failover tests of the scale-out stack
// (deploy/cluster): real `fairslot serve` processes over HTTP, PostgreSQL
// under Patroni behind HAProxy and a Redis Cluster with replicas, with the
// primary or a master killed in the middle of a burst of bookings. They
// build only with the tag `cluster` and need the stack running:
// deploy/cluster/test.sh (`make test-cluster`, and a step of `make test`)
// starts it, builds the binary and runs them.
package failover
