# SPDX-License-Identifier: GPL-2.0
#
# linux-chainIO front-end makefile.  Kbuild itself reads ./Kbuild.
#
#   make                     build nvme_ring_io.ko for the running kernel,
#                            libnvme_ring_io and the samples
#   make KVER=6.12.x-amd64   ... for an installed kernel's headers
#   make KDIR=/path/to/build ... for any kernel build tree
#   make clean               remove build output
#   make check               the test suite: every supported kernel in QEMU
#   make check KVERS="..."   the test suite on the listed kernels only
#   make check-debug         the test suite on the debug kernel only (KASAN,
#                            lockdep, kmemleak; KDEBUG_DIR=its .debs)
#   make vm                  boot the test VM and load the module in it
#   make bench               nrio_bench in the VM on every supported kernel
#                            (KVERS="..." to choose; BENCH_* knobs: see
#                            scripts/bench.sh); results in build/bench/
#   make selftests           build the kselftests (static) into build/
#   make module | lib | samples | tools   one of them (tools: nrio_bench,
#                            the benchmark program, in build/tools/)
#   make install             modules_install for KVER/KDIR, and the library
#                            (PREFIX=/usr/local, DESTDIR=)

KVER	?= $(shell uname -r)
KDIR	?= /lib/modules/$(KVER)/build
O_DIR	:= $(CURDIR)/build

KO	:= drivers/block/nvme_ring_io/nvme_ring_io.ko
KBUILD_ARGS := -C $(KDIR) M=$(CURDIR) CONFIG_NVME_RING_IO=m

.PHONY: all module modules lib samples clean check check-debug vm selftests \
	install kdir-check bench tools

all: module lib samples tools

lib:
	$(MAKE) -C tools/lib/nvme_ring_io OUTPUT=$(O_DIR)/lib

samples:
	$(MAKE) -C samples/nvme_ring_io OUTPUT=$(O_DIR)/samples
	$(MAKE) -C samples/unified_io OUTPUT=$(O_DIR)/samples
	$(MAKE) -C samples/unified_io/full_stack OUTPUT=$(O_DIR)/samples

tools:
	$(MAKE) -C tools/bench/nvme_ring_io OUTPUT=$(O_DIR)/tools

module modules: kdir-check
	$(MAKE) $(KBUILD_ARGS) modules

kdir-check:
	@test -f "$(KDIR)/Makefile" || { \
	  echo "error: no kernel build tree at $(KDIR)" >&2; \
	  echo "  install the headers (apt-get install linux-headers-$(KVER))," >&2; \
	  echo "  or pass KVER=<version> or KDIR=<build dir>; installed:" >&2; \
	  ls /lib/modules 2>/dev/null | sed 's/^/    /' >&2; \
	  exit 1; }

install: module lib
	$(MAKE) $(KBUILD_ARGS) modules_install
	$(MAKE) -C tools/lib/nvme_ring_io OUTPUT=$(O_DIR)/lib install

selftests:
	scripts/check.sh --build-selftests-only

check:
	scripts/check.sh $(if $(KVERS),--kvers "$(KVERS)")

check-debug:
	scripts/check.sh --debug-only

bench:
	scripts/bench.sh $(if $(KVERS),--kvers "$(KVERS)")

vm:
	scripts/check.sh --vm $(if $(KVERS),--kvers "$(KVERS)")

clean:
	@if [ -f "$(KDIR)/Makefile" ]; then \
	  $(MAKE) $(KBUILD_ARGS) clean; \
	else \
	  find drivers \( -name '*.o' -o -name '*.ko' -o -name '*.mod' -o \
	    -name '*.mod.c' -o -name '.*.cmd' -o -name 'modules.order' \) \
	    -delete; \
	  rm -f Module.symvers modules.order .module-common.o; \
	fi
	rm -rf $(O_DIR)
