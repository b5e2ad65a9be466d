# rangecat — build, test, install.
#
#   make            build ./rangecat
#   make check      build and run every test (unit + integration)
#   make sanitize   the same suite with ASan+UBSan (make tsan: TSan)
#   make valgrind   the integration cases under valgrind
#   make soak       400 seeded runs with random faults
#   make fuzz       libFuzzer on every parser of outside input
#   make bench      benchmarks against curl, aria2c, axel, wget2
#   make demo       stream a generated sample from a loopback nginx
#   make container-check  the Dockerfile built and run with podman
#   make install    PREFIX=/usr/local DESTDIR=
#
# On a Debian machine run as root, `make deps` (a prerequisite of check and
# demo) installs whatever build or test package is missing, and does nothing
# when all are present.

PREFIX  ?= /usr/local
BINDIR  ?= $(PREFIX)/bin
MANDIR  ?= $(PREFIX)/share/man
DATADIR ?= $(PREFIX)/share
BASHCOMPDIR ?= $(DATADIR)/bash-completion/completions
ZSHCOMPDIR  ?= $(DATADIR)/zsh/site-functions
FISHCOMPDIR ?= $(DATADIR)/fish/vendor_completions.d
CC      ?= cc
PKG_CONFIG ?= pkg-config
# Debian's own Python, whose python3-boto3 the S3 tests and bench use.
PYTHON  ?= $(shell test -x /usr/bin/python3 && echo /usr/bin/python3 || echo python3)
WERROR  ?= -Werror
# The one place the version lives: --version, the User-Agent and the
# installed man page's footer take it from here.
VERSION := 0.1.0

ifeq ($(V),1)
Q :=
else
Q := @
endif

# Debian 12's libmbedtls-dev has no .pc file: fall back to plain -l flags.
MBED_LIBS := $(shell $(PKG_CONFIG) --libs mbedcrypto 2>/dev/null || echo -lmbedcrypto)
# libcrypto: SHA-256/512 for --sha256 (SHA-NI; see src/digest.c).
PKGS := libcurl libzstd zlib json-c libcrypto
# libarchive is loaded when a run needs it (src/lazyarchive.c): its
# headers only, and the name of its library as this system has it.
DEP_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) libarchive 2>/dev/null)
DEP_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS) 2>/dev/null) $(MBED_LIBS)
ARCHIVE_SONAME := $(shell objdump -p "$$($(PKG_CONFIG) --variable=libdir libarchive 2>/dev/null)/libarchive.so" 2>/dev/null | awk '$$1 == "SONAME" {print $$2}')
ARCHIVE_SONAME := $(or $(ARCHIVE_SONAME),libarchive.so.13)

BASE_CFLAGS := -std=c11 -D_GNU_SOURCE -O2 -g -Wall -Wextra $(WERROR) \
	-Wshadow -Wstrict-prototypes -Wmissing-prototypes -Wformat=2 \
	-Wno-format-nonliteral -DRC_VERSION='"$(VERSION)"' \
	-DRC_LIBARCHIVE='"$(ARCHIVE_SONAME)"'
# A distribution's CPPFLAGS, CFLAGS and LDFLAGS (Debian's hardening:
# dpkg-buildflags) come last, so they win; the build is warning-free with them.
ALL_CFLAGS = $(BASE_CFLAGS) $(DEP_CFLAGS) $(EXTRA_CFLAGS) $(CPPFLAGS) $(CFLAGS)
ALL_LDFLAGS = $(EXTRA_LDFLAGS) $(LDFLAGS)
LIBS = $(DEP_LIBS) -lpthread -lm

# Every module but main.c goes into a static library the unit tests link.
LIB_SRC := src/err.c src/options.c src/http.c src/probe.c src/plan.c \
	src/ring.c src/fetch.c src/sink_raw.c src/progress.c src/log.c \
	src/resume.c src/reader.c src/sink_decode.c src/sink_unpack.c \
	src/ranged.c src/sigv4.c src/auth.c src/oauth.c \
	src/escape.c src/beneath.c src/digest.c src/sched.c \
	src/output.c src/handle.c src/awscreds.c src/cache.c src/inputs.c \
	src/lazyarchive.c src/parts.c
LIB_OBJ := $(LIB_SRC:.c=.o)
UNIT_SRC := $(wildcard tests/unit/t_*.c)
UNIT_BIN := $(UNIT_SRC:.c=)
FUZZ_TARGETS := http options redact paths oauth sigv4 escape beneath awscreds parts
REPLAY_BIN := $(FUZZ_TARGETS:%=tests/fuzz/replay_%)

.PHONY: all check unit integration sanitize tsan soak fuzz valgrind bench demo deps \
	install \
	uninstall clean lint

all: rangecat

src/%.o: src/%.c src/*.h
	@$(if $(Q),echo "  CC      $@")
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

librangecat.a: $(LIB_OBJ)
	$(Q)rm -f $@ && ar rcs $@ $^

rangecat: src/main.o librangecat.a
	@$(if $(Q),echo "  LD      $@")
	$(Q)$(CC) $(ALL_LDFLAGS) -o $@ $^ $(LIBS)

tests/unit/t_%: tests/unit/t_%.c librangecat.a tests/unit/harness.h
	$(Q)$(CC) $(ALL_CFLAGS) -iquote src $(ALL_LDFLAGS) -o $@ $< librangecat.a $(LIBS)

# The fuzz targets, linked with a plain driver that replays the seed
# corpora and past findings in `make check`.
tests/fuzz/replay_%: tests/fuzz/fuzz_%.c tests/fuzz/replay.c librangecat.a
	$(Q)$(CC) $(ALL_CFLAGS) -iquote src $(ALL_LDFLAGS) -o $@ $< tests/fuzz/replay.c librangecat.a $(LIBS)

unit: $(UNIT_BIN) $(REPLAY_BIN)

# libFuzzer with ASan+UBSan, FUZZ_SECONDS per target. New corpus entries
# stay in tests/fuzz/work/; crashes land in tests/fuzz/findings/ and, once
# fixed, belong in tests/fuzz/regressions/<target>/.
FUZZ_SECONDS ?= 60
FUZZ_CC ?= clang
FUZZ_FLAGS := -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all
fuzz: deps
	$(Q)for p in clang libclang-rt-14-dev; do dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
		| grep -q 'ok installed' || apt-get install -y -qq --no-install-recommends $$p >/dev/null; done
	$(Q)mkdir -p tests/fuzz/findings
	$(Q)for t in $(FUZZ_TARGETS); do \
		$(FUZZ_CC) $(FUZZ_FLAGS) -std=c11 -D_GNU_SOURCE -DRC_VERSION='"$(VERSION)"' $(DEP_CFLAGS) -iquote src \
			-o tests/fuzz/fuzz_$$t tests/fuzz/fuzz_$$t.c $(filter-out src/main.c,$(LIB_SRC)) $(LIBS) || exit 1; \
		mkdir -p tests/fuzz/work/$$t; \
		echo "fuzz $$t: $(FUZZ_SECONDS) s"; \
		tests/fuzz/fuzz_$$t -max_total_time=$(FUZZ_SECONDS) -artifact_prefix=tests/fuzz/findings/$$t- \
			-print_final_stats=1 tests/fuzz/work/$$t tests/fuzz/corpus/$$t tests/fuzz/regressions/$$t \
			2>&1 | grep -E 'stat::number_of_executed_units|ERROR|SUMMARY' || exit 1; \
		[ -z "$$(ls tests/fuzz/findings/$$t-* 2>/dev/null)" ] || { echo "fuzz $$t: findings in tests/fuzz/findings"; exit 1; }; \
	done

# The test runner prints one final line: N passed, N failed, N skipped.
# deps runs first, then a fresh make reads the pkg-config flags of the
# packages deps may just have installed. bench/netlink/netlink is the
# link of the far-link cases (tests/integration/farlink.py).
check: deps
	$(Q)$(MAKE) --no-print-directory rangecat unit bench/netlink/netlink
	$(Q)tests/run

# Benchmarks against curl, aria2c, axel and wget2 (not part of check):
# writes bench/results/RESULTS.md and throughput.png.
# BENCH_ONLY=latency runs only the emulated-latency scenarios.
BENCH_PKGS := aria2 axel wget2 gnuplot-nox iproute2 time iputils-ping
bench: deps
	$(Q)for p in $(BENCH_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
		| grep -q 'ok installed' || apt-get install -y -qq --no-install-recommends $$p >/dev/null; done
	$(Q)$(MAKE) --no-print-directory rangecat bench/netlink/netlink
	$(Q)$(PYTHON) bench/run.py
	$(Q)case ",$(BENCH_ONLY)," in ,,|*,seams,*) $(PYTHON) bench/seams.py ;; esac

# The userspace link emulator of the latency benchmarks (bench/netlink/)
# and of the integration tests' far link.
bench/netlink/netlink: bench/netlink/netlink.c
	$(Q)$(CC) -std=c11 -O2 -Wall -Wextra $(WERROR) -o $@ $<

# The seeded soak, long: RANGECAT_SOAK_SEED=N replays a run.
SOAK_RUNS ?= 400
soak: deps
	$(Q)$(MAKE) --no-print-directory rangecat
	$(Q)RANGECAT_SOAK_RUNS=$(SOAK_RUNS) $(PYTHON) tests/integration/run.py -k soak

# Every integration case under valgrind (errors and definite leaks fail).
valgrind: deps
	$(Q)dpkg-query -W -f='$${Status}' valgrind 2>/dev/null | grep -q 'ok installed' \
		|| apt-get install -y -qq --no-install-recommends valgrind >/dev/null
	$(Q)$(MAKE) --no-print-directory rangecat unit bench/netlink/netlink
	$(Q)tests/run --valgrind

sanitize:
	$(Q)$(MAKE) --no-print-directory clean >/dev/null
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory EXTRA_CFLAGS='-O1 -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer' \
		EXTRA_LDFLAGS='-fsanitize=address,undefined' check
	$(Q)$(MAKE) --no-print-directory clean >/dev/null

tsan:
	$(Q)$(MAKE) --no-print-directory clean >/dev/null
	$(Q)$(MAKE) --no-print-directory deps
	$(Q)$(MAKE) --no-print-directory EXTRA_CFLAGS='-O1 -fsanitize=thread' EXTRA_LDFLAGS='-fsanitize=thread' check
	$(Q)$(MAKE) --no-print-directory clean >/dev/null

demo: deps
	$(Q)$(MAKE) --no-print-directory rangecat
	$(Q)$(PYTHON) tests/demo.py

# contrib/Dockerfile built with podman and run for real, with no registry:
# the Debian 12 base image is made here by mmdebstrap from the machine's
# apt sources and cached in CONTAINER_CACHE (a few minutes the first time;
# rm -r it to refresh). tests/container/check.py says what is checked.
# container-probe only says whether podman can run containers here (.ci/run
# asks it first). Neither is part of check.
CONTAINER_PKGS := podman crun runc uidmap containernetworking-plugins mmdebstrap
CONTAINER_CACHE ?= build/container
.PHONY: container-deps container-probe container-check
container-deps: deps
	$(Q)for p in $(CONTAINER_PKGS); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null \
		| grep -q 'ok installed' || apt-get install -y -qq --no-install-recommends $$p >/dev/null; done
container-probe: container-deps
	$(Q)$(PYTHON) tests/container/check.py --probe $(CONTAINER_CACHE)
container-check: container-deps
	$(Q)$(MAKE) --no-print-directory rangecat
	$(Q)$(PYTHON) tests/container/check.py $(CONTAINER_CACHE)

# Debian packages the build and the tests need. Installed only when missing.
DEB_PKGS := gcc make pkg-config libcurl4-openssl-dev libmbedtls-dev \
	libarchive-dev libzstd-dev zlib1g-dev nginx-light openssl curl python3 mandoc \
	man-db zsh fish parallel zstd xz-utils bzip2 lz4 zip cpio libjson-c-dev \
	ceph-mon ceph-osd radosgw ceph-common python3-boto3 faketime \
	libssl-dev apache2 lighttpd dpkg-dev \
	python3-yaml slurmctld slurmd slurm-client munge iproute2
deps:
	$(Q)missing=""; for p in $(DEB_PKGS); do \
		dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'ok installed' \
			|| missing="$$missing $$p"; \
	done; \
	if [ -n "$$missing" ]; then \
		echo "deps: installing$$missing"; \
		if [ "$$(id -u)" != 0 ]; then echo "deps: run as root to install:$$missing" >&2; exit 1; fi; \
		apt-get update -qq && DEBIAN_FRONTEND=noninteractive \
			apt-get install -y -qq --no-install-recommends $$missing >/dev/null; \
	fi

lint:
	$(Q)clang-format --dry-run --Werror src/*.c src/*.h tests/unit/*.c tests/unit/*.h tests/fuzz/*.c
	$(Q)out=$$(mandoc -Tlint -W style man/rangecat.1 2>&1 | $(MANDOC_LOCAL)); \
		if [ -n "$$out" ]; then echo "$$out"; exit 1; fi

# mandoc's messages at style level, less those about the pages installed
# on this machine (a cross-reference to bsdtar(1) or netrc(5) that is not
# there, an outdated mandoc.db), which say nothing of ours.
MANDOC_LOCAL := grep -v -e 'referenced manual not found' -e 'mandoc.db'

# The binary, the man page and the bash, zsh and fish completions; uninstall
# removes exactly these files.
INSTALLED := $(BINDIR)/rangecat $(MANDIR)/man1/rangecat.1 \
	$(BASHCOMPDIR)/rangecat $(ZSHCOMPDIR)/_rangecat $(FISHCOMPDIR)/rangecat.fish
install: rangecat
	install -d $(DESTDIR)$(BINDIR) $(DESTDIR)$(MANDIR)/man1 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(ZSHCOMPDIR) $(DESTDIR)$(FISHCOMPDIR)
	install -m 0755 rangecat $(DESTDIR)$(BINDIR)/rangecat
	sed 's/^\.Os$$/.Os rangecat $(VERSION)/' man/rangecat.1 > $(DESTDIR)$(MANDIR)/man1/rangecat.1
	chmod 0644 $(DESTDIR)$(MANDIR)/man1/rangecat.1
	install -m 0644 contrib/completions/rangecat.bash $(DESTDIR)$(BASHCOMPDIR)/rangecat
	install -m 0644 contrib/completions/_rangecat $(DESTDIR)$(ZSHCOMPDIR)/_rangecat
	install -m 0644 contrib/completions/rangecat.fish $(DESTDIR)$(FISHCOMPDIR)/rangecat.fish

uninstall:
	rm -f $(INSTALLED:%=$(DESTDIR)%)

clean:
	rm -f rangecat librangecat.a src/*.o $(UNIT_BIN) $(REPLAY_BIN) \
		$(FUZZ_TARGETS:%=tests/fuzz/fuzz_%) bench/netlink/netlink
