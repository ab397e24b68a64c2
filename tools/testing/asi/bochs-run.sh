#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Boot the test kernel under Bochs, which emulates what QEMU's TCG cannot:
# VMX with EPT, PCID and INVPCID (cpu: model=tigerlake), so kvm_intel and
# the PCID paths run.  Same interface and exit statuses as qemu-run.sh.
#
# Bochs cannot load a bzImage: the kernel and the initramfs go on a GRUB
# rescue ISO.  The console is slow (hundreds of bytes a second), so the
# kernel boots "quiet" and the guest sends its output, and its kernel
# warnings, through Bochs's port 0xe9 (asi_out=e9), which Bochs writes to
# its standard output.  A guest power-off ends Bochs with status 1 and
# ">>PANIC<< [ACPI] ACPI control: soft power off": the normal end.
#
# Usage: bochs-run.sh [-t SECONDS] [-l LOG] [-a "EXTRA CMDLINE"] [-c CPUS] SUITE
#   CPUS is Bochs's count: N processors, or P:C:T (processors, cores per
#   processor, threads per core): 1:1:2 is one core with two SMT siblings.
#   The default is ASI_BOCHS_CPUS, or 1.
#   SUITE "shell" runs interactively on the (slow) serial console.
set -uo pipefail
. "$(dirname "$0")/lib.sh"

timeout=900 log= extra= cpus=${ASI_BOCHS_CPUS:-1}
# ASI_BOCHS_CPU: another Bochs CPU model, to show what the checks do when
# VMX, EPT or PCID go missing.  The tests expect tigerlake.
model=${ASI_BOCHS_CPU:-tigerlake}
# ASI_BOCHS_IPS: the emulated CPU's instructions per second (default 40
# million, 25 million with more than one CPU).  Bochs's time advances with
# instructions, so a faster emulated CPU sees fewer timer ticks per
# instruction, as real hardware does, and its timed waits take longer in
# wall-clock time.
while getopts t:l:a:c: o; do
	case $o in
	t) timeout=$OPTARG ;;
	l) log=$OPTARG ;;
	a) extra=$OPTARG ;;
	c) cpus=$OPTARG ;;
	*) asi_die "usage: $0 [-t SECONDS] [-l LOG] [-a CMDLINE] [-c CPUS] SUITE" ;;
	esac
done
shift $((OPTIND - 1))
suite=${1:?suite name or shell}
"$ASI_HARNESS/deps.sh" bochs

asi_need_images
log=${log:-$ASI_LOGS/bochs-$suite.log}
work=$ASI_BUILD/bochs/$suite
rm -rf "$work"
mkdir -p "$work/iso/boot/grub"

# Bochs's instructions per second: the guest's TSC must be told, or its
# clock runs far too slow.
[[ "$cpus" =~ ^[1-9](:[1-9]){0,2}$ ]] || asi_die "-c $cpus: expected N or P:C:T"
threads=$(( ${cpus//:/*} ))
ips=${ASI_BOCHS_IPS:-$(( threads > 1 ? 25000000 : 40000000 ))}
[[ "$ips" =~ ^[1-9][0-9]{5,}$ ]] ||
	asi_die "ASI_BOCHS_IPS=$ips: expected instructions per second, at least 100000"
cmdline="console=ttyS0 quiet tsc_early_khz=$((ips / 1000)) kunit.enable=0 panic=-1"
cmdline="$cmdline asi_emu=bochs asi_test=$suite asi_out=e9 $extra"
[ "$suite" = shell ] && cmdline="console=ttyS0 tsc_early_khz=$((ips / 1000)) kunit.enable=0 asi_test=shell $extra"

cp "$ASI_BZIMAGE" "$work/iso/boot/bzImage"
asi_initrd "$work/iso/boot/initrd.gz"
cat >"$work/iso/boot/grub/grub.cfg" <<EOC
set timeout=0
serial --unit=0 --speed=115200
terminal_input serial console
terminal_output serial console
menuentry "asi $suite" {
	linux /boot/bzImage $cmdline
	initrd /boot/initrd.gz
}
EOC
grub-mkrescue -d /usr/lib/grub/i386-pc \
	--install-modules="linux normal iso9660 biosdisk serial terminal" \
	--fonts= --locales= --themes= -o "$work/boot.iso" "$work/iso" \
	>"$work/grub.log" 2>&1 || { cat "$work/grub.log" >&2; asi_die "grub-mkrescue failed"; }

comport="com1: enabled=1, mode=file, dev=$work/serial.log"
# The shell talks to this terminal (slowly: Bochs's serial port is slow).
[ "$suite" = shell ] && comport="com1: enabled=1, mode=term, dev=$(tty)"
cat >"$work/bochsrc" <<EOC
megs: 1024
cpu: model=$model, count=$cpus, ips=$ips, reset_on_triple_fault=1, ignore_bad_msrs=1
romimage: file=/usr/share/bochs/BIOS-bochs-latest, options=fastboot
vgaromimage: file=/usr/share/vgabios/vgabios.bin
pci: enabled=1, chipset=i440fx
ata0-master: type=cdrom, path=$work/boot.iso, status=inserted
boot: cdrom
clock: sync=none
$comport
log: $work/bochs.log
port_e9_hack: enabled=1
display_library: rfb, options="timeout=0"
EOC
echo c >"$work/cont.rc"

if [ "$suite" = shell ]; then
	asi_log "Bochs shell on this terminal; 'poweroff -f' to leave"
	bochs -q -f "$work/bochsrc" -rc "$work/cont.rc"
	stty sane 2>/dev/null	# Bochs leaves the terminal raw
	exit 0
fi

asi_log "Bochs: $suite ($threads CPU, limit ${timeout}s, log $log)"
start=$(date +%s)
(cd "$work" && timeout -k 5 "$timeout" bochs -q -f bochsrc -rc cont.rc </dev/null >"$work/e9.log" 2>&1)
brc=$?
asi_log "Bochs: $suite ended after $(( $(date +%s) - start )) s"
# One log: the serial console, then what the guest sent through port 0xe9.
{ cat "$work/serial.log"; echo "--- port 0xe9 ---"; cat "$work/e9.log"; } >"$log"
[ $brc -eq 124 ] && { asi_log "$suite: timed out after ${timeout}s"; exit 124; }
grep -q 'ACPI control: soft power off' "$work/e9.log" "$work/bochs.log" ||
	asi_log "$suite: Bochs ended without the guest's power-off (status $brc)"

asi_guest_result "$suite" "$log" "$ASI_HARNESS/bochs-allow.txt"
