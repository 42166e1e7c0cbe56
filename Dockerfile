# kprod container image for the Kubernetes Jobs in deploy/kubernetes/.
#
# Multi-stage: the builder compiles a release binary with librdkafka (built from source by
# rdkafka-sys), OpenSSL, zlib and zstd all linked statically, so the binary needs nothing
# from the runtime image but the C library (the same Debian release as the builder); the
# build fails if anything else is linked dynamically.
#
#   docker build -t kprod:0.1.0 .
#   docker run --rm kprod:0.1.0 bench --records 10k        # embedded cluster, no broker

FROM rust:1-bookworm AS build
RUN apt-get update \
    && apt-get install -y --no-install-recommends build-essential pkg-config python3 libssl-dev zlib1g-dev \
    && rm -rf /var/lib/apt/lists/*
WORKDIR /src
# Static OpenSSL (libssl.a from libssl-dev) and zlib instead of their shared libraries.
# pkg-config would pick the shared OpenSSL (it links nothing in /usr statically), so
# openssl-sys is pointed at the library directory itself.
ENV OPENSSL_STATIC=1 OPENSSL_NO_PKG_CONFIG=1 OPENSSL_INCLUDE_DIR=/usr/include LIBZ_SYS_STATIC=1
COPY Cargo.toml Cargo.lock ./
COPY benches benches
COPY profiles profiles
COPY src src
RUN OPENSSL_LIB_DIR="/usr/lib/$(gcc -print-multiarch)" cargo build --release --locked --bin kprod \
    && cp target/release/kprod /kprod \
    && strip /kprod \
    && if ldd /kprod | grep -vE 'linux-vdso|ld-linux|libc\.so|libm\.so|libgcc_s\.so|libpthread\.so|libdl\.so|librt\.so'; then \
         echo "kprod links more than the C library dynamically" >&2; exit 1; \
       fi \
    && /kprod --version

FROM debian:bookworm-slim
# CA certificates for TLS to real brokers; nothing else is needed at run time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends ca-certificates \
    && rm -rf /var/lib/apt/lists/*
COPY --from=build /kprod /usr/local/bin/kprod
# The Jobs mount the results volume here; an unprivileged user, as the manifests require.
WORKDIR /results
USER 65532:65532
ENTRYPOINT ["/usr/local/bin/kprod"]
CMD ["--help"]
