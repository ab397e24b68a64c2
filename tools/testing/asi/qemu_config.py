# SPDX-License-Identifier: GPL-2.0
# kunit.py --qemu_config for the ASI tests: the CPU and SMT topology of the
# harness's QEMU runner (AMD with SVM and nested paging under TCG, 2 cores
# x 2 threads), and the expectations the kvm_env suite checks against it.
from ..qemu_config import QemuArchParams

QEMU_ARCH = QemuArchParams(linux_arch='x86_64',
			   kconfig='''
CONFIG_SERIAL_8250=y
CONFIG_SERIAL_8250_CONSOLE=y''',
			   qemu_arch='x86_64',
			   kernel_path='arch/x86/boot/bzImage',
			   kernel_command_line='console=ttyS0 asi=on preempt=full kvm_env.vendor=amd '
					       'kvm_env.cores=2 kvm_env.threads=2 kvm_env.pcid=0',
			   # One TCG thread: see the comment in qemu-run.sh.
			   extra_qemu_params=['-accel', 'tcg,thread=single',
					      '-bios', 'qboot.rom',
					      '-cpu', 'max',
					      '-smp', '4,sockets=1,cores=2,threads=2',
					      '-m', '2048'])
