# SPDX-License-Identifier: GPL-2.0
# Address Space Isolation for Linux 6.12: build, boot and test.
# The scripts live in tools/testing/asi; see README.md.
H := tools/testing/asi

.PHONY: all run test bench tree kernel kernel-llvm userspace kunit guest check \
	shell gdb bochs bochs-kunit bochs-shell series clean distclean help

all: help

help:
	@echo "make run       build, boot in QEMU, run the demo VM without and with ASI,"
	@echo "               print its exit table (EMU=bochs: in Bochs, VMX)"
	@echo "make test      everything: builds, KUnit, in-guest tests, checks -> 'N passed, N failed'"
	@echo "make tree      assemble build/linux (Debian 6.12 + patches/ + new files)"
	@echo "make kernel    build the test kernel (GCC, ccache) in build/kernel"
	@echo "make kernel-llvm  the same with LLVM=1 in build/kernel-llvm"
	@echo "make userspace build the initramfs (busybox, demo VMM, KVM selftests)"
	@echo "make kunit     KUnit suites through kunit.py in QEMU"
	@echo "make guest SUITE=name  one in-guest suite of $(H)/suites in QEMU"
	@echo "make bochs SUITE=name  one in-guest suite in Bochs (VMX, EPT, PCID)"
	@echo "make bochs-kunit  the kvm_env KUnit suite in Bochs"
	@echo "make bochs-shell  a shell in the Bochs test VM (slow console)"
	@echo "make check     checkpatch, sparse, W=1, build warnings, LLVM=1 build"
	@echo "make bench     ASI round trip vs CR3 reload, in instructions and time"
	@echo "make shell     interactive shell in the QEMU test VM"
	@echo "make gdb       boot the test VM halted, waiting for gdb on :1234"
	@echo "make series    export everything as a git format-patch series"
	@echo "make clean     remove the kernel builds (keeps the tree and ccache)"
	@echo "make distclean remove build/ entirely"

tree:
	$(H)/prepare-tree.sh

kernel:
	$(H)/build-kernel.sh gcc

kernel-llvm:
	$(H)/build-kernel.sh llvm

userspace: kernel
	$(H)/build-userspace.sh

kunit:
	$(H)/kunit.sh

guest: userspace
	$(H)/qemu-run.sh $(SUITE)

run:
	$(H)/run-demo.sh $(EMU)

test:
	$(H)/run-tests.sh

bench: userspace
	$(H)/bench.sh

check: kernel
	$(H)/check.sh

bochs: userspace
	$(H)/bochs-run.sh $(SUITE)

bochs-kunit: userspace
	$(H)/bochs-kunit.sh

bochs-shell: userspace
	$(H)/bochs-run.sh shell

shell: userspace
	$(H)/qemu-run.sh shell

gdb: userspace
	$(H)/qemu-run.sh -g shell

series:
	$(H)/make-series.sh

clean:
	rm -rf build/kernel build/kernel-llvm build/user build/headers build/initramfs.cpio.gz

distclean:
	rm -rf build
