# shellcheck shell=bash disable=SC2034,SC2154  # read by the sourcing script, which sets $root
# The demo's simulator and daemon command lines, defined once. scripts/demo.sh runs them on this
# machine; deploy/docker-compose.yml runs the same ones in containers. Compose cannot read this
# file, so tests/deploy compares the two and fails when they drift: change both together.
#
#   root=<repository root>; source scripts/demo-commands.sh
#   "$sim" --port PORT "${demo_sim_args[@]}"     (compose adds --bind 0.0.0.0 before --port)
#   "$bin" "${demo_daemon_args[@]}"              (compose mounts $demo_config at its -c path)
#
# The job file, deploy/compose/replicator.yaml, is shared too: it reads the addresses that differ
# (REPLICATOR_LISTEN, ACTITO_BASE_URL, PG_DSN) and the API key from the environment.

demo_profiles=${DEMO_PROFILES:-20000}
demo_records=${DEMO_RECORDS:-5000}

# actito-sim: generated data, and a mutation of every table each 2 s so cycles have work to do.
demo_sim_args=(--profiles "$demo_profiles" --custom-records "$demo_records" --seed 7
  --mutate-every 2s --mutate-updates 100 --mutate-creates 20 --mutate-deletes 2)

# actito-replicator: the daemon, on the shared job file.
demo_config="${root:?set root to the repository root before sourcing}/deploy/compose/replicator.yaml"
demo_daemon_args=(run -c "$demo_config" --log-format text)
