# fairslot developer entry points. `make` alone lists them.
SERVICES := deploy/local/services.sh

.DEFAULT_GOAL := help
.PHONY: help run test test-cluster cluster cluster-stop lint test-faults loadtest bench services stop build clean

help: ## list the targets
	@awk 'BEGIN {FS = ":.*## "} /^[a-z-]+:.*## / {printf "  make %-13s %s\n", $$1, $$2}' $(MAKEFILE_LIST)

run: ## start Postgres+Redis, migrate, seed and serve (ARGS="..."; INSTANCES=3: behind HAProxy on :20080; CLUSTER=1: on the replicated stack; PROMETHEUS=1)
	$(if $(INSTANCES)$(CLUSTER)$(PROMETHEUS),FAIRSLOT_CLUSTER=$(CLUSTER) FAIRSLOT_PROMETHEUS=$(PROMETHEUS) deploy/cluster/instances.sh $(or $(INSTANCES),1),deploy/local/run.sh) $(ARGS)

test: ## lint, then every test against local Redis, PostgreSQL and Chromium (flags: GOTESTFLAGS="...")
	deploy/local/test.sh

test-cluster: ## the failover tests alone: Patroni+etcd+HAProxy, Redis Cluster with replicas, real instances (GOTESTFLAGS="...")
	deploy/cluster/test.sh

cluster: ## start the replicated stack (PostgreSQL under Patroni, HAProxy, Redis Cluster 3+3) and print its env
	deploy/cluster/cluster.sh start && deploy/cluster/cluster.sh env

cluster-stop: ## stop the replicated stack (deploy/cluster/cluster.sh purge also deletes its data)
	deploy/cluster/cluster.sh stop

lint: ## the fast checks alone: gofmt, go mod tidy, vet, staticcheck, shellcheck
	deploy/local/lint.sh

test-faults: ## the fault table on private Redis and PostgreSQL (ARGS="-only Redis -attempts 300"); table in docs/reliability.md
	go run ./loadtest/faults $(ARGS)

loadtest: ## k6 scenario (SCENARIO=release_hour|steady_day|scalper_mix, ARGS="-rate 5000"); report into docs/performance.md
	SCENARIO=$(or $(SCENARIO),release_hour) deploy/local/loadtest.sh $(ARGS)

bench: ## throughput in one run: wrk against a no-op handler, fairslot and a SQL-only baseline
	SCENARIO=throughput deploy/local/loadtest.sh $(ARGS)

services: ## start the local Postgres (15432) and Redis (16379)
	$(SERVICES) start

stop: ## stop the local Postgres and Redis
	$(SERVICES) stop

build: ## build bin/fairslot
	go build -o bin/fairslot ./cmd/fairslot

clean: ## stop services, then DELETE bin/, .data/ and the local database (wherever it lives)
	deploy/cluster/cluster.sh purge
	$(SERVICES) purge
	rm -rf bin
