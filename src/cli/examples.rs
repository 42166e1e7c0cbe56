//! The examples printed under each command's `--help` (clap `after_help`). Kept apart
//! from the flag definitions so `cli.rs` stays a table of flags.

pub const TOP: &str = "\
Examples:
  kprod bench                                   # 10 s at 20k records/s on the embedded cluster
  kprod bench -p durable -b kafka:9092 -t bench -r 50k -d 1m
  kprod profiles show durable                   # the exact librdkafka properties
  kprod compare lz4 zstd                        # one workload under two profiles
  kprod completions bash > ~/.local/share/bash-completion/completions/kprod";

pub const BENCH: &str = "\
Examples:
  kprod bench -p durable                        # built-in profile, 10 s at 20k records/s
  kprod bench -p durable -r 50k -d 2m --warmup 10s --producers 4
  kprod bench -p throughput -r unlimited -n 5m -s 1KiB
  kprod bench -b kafka1:9092,kafka2:9092 -t bench --set producer.acks=1 -X socket.nagle.disable=true
  kprod bench --num-records 1m --record-size 100 --throughput -1 --producer-props acks=1
  kprod bench --json | jq .throughput           # report.json on stdout, summary on stderr
  kprod bench --repeat 5 --threshold 'p99<=20ms' --name nightly";

pub const PROFILES: &str = "\
Examples:
  kprod profiles                                # list the built-in profiles
  kprod profiles show durable zstd              # layered, resolved, with librdkafka properties";

pub const PROFILES_SHOW: &str = "\
Examples:
  kprod profiles show durable
  kprod profiles show durable ./my.toml --set batching.linger=20ms -X socket.nagle.disable=true
  kprod profiles show base --java-config producer.properties";

pub const COMPARE: &str = "\
Examples:
  kprod compare lz4 zstd                        # 3 interleaved runs per variant
  kprod compare none lz4 zstd -p durable -r 50k -d 30s --repeat 5
  kprod compare lz4 zstd --json | jq '.figures[0]'";

pub const CHECK: &str = "\
Examples:
  kprod check --baseline results/baseline       # replay the baseline's profile now
  kprod check --baseline results/baseline --repeat 5 -d 4s --warmup 1s --inconclusive pass
  kprod check --baseline results/base-run --current results/new-run --max-regression p99=5%";

pub const SWEEP: &str = "\
Examples:
  kprod sweep --rates 10k,20k,50k,100k --slo 'p99<=20ms'
  kprod sweep --find-max --slo 'p99<=20ms' -p durable --step-duration 10s
  kprod sweep --param batching.linger=0ms,5ms,20ms -r 50k";

pub const TUNE: &str = "\
Examples:
  kprod tune --slo 'p99<=20ms' --budget 10m     # best settings on the embedded cluster
  kprod tune --slo 'p99<=20ms' --fault 'rtt:*=10ms@0s' --budget 10m
  kprod tune --slo 'p99<=50ms' -b kafka:9092 -t bench --space 'linger=0..50ms,codec=lz4|zstd'
  kprod tune --slo 'p99<=20ms' --rate 50k --objective bytes
  kprod bench --profile results/<UTC>-tune/winner.toml";

pub const REPORT: &str = "\
Examples:
  kprod report results/20260501T120000Z-durable   # redraw table, CSV and charts";

pub const MERGE: &str = "\
Examples:
  kprod merge results/run-42 --out results      # every instance's run directory under run-42";

pub const CLUSTER: &str = "\
Examples:
  kprod cluster --mock-brokers 3 --topic bench --partitions 12
  kprod bench -b <printed bootstrap list> --instance 0/2";

pub const COMPLETIONS: &str = "\
Examples:
  kprod completions bash > ~/.local/share/bash-completion/completions/kprod
  kprod completions zsh > ~/.zfunc/_kprod       # with fpath+=~/.zfunc before compinit
  kprod completions fish > ~/.config/fish/completions/kprod.fish";

pub const MAN: &str = "\
Examples:
  kprod man | man -l -                          # read it now
  kprod man --out /usr/local/share/man/man1     # kprod.1 and kprod-bench.1, ...";
