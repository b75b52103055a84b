# Test guests: unikernels that misbehave on purpose (tests/system uses them).
# Built like apps (sdk/mk/app.mk) into $(O)/apps/NAME/NAME.elf, but only when
# asked for (`make test-guests`, done by `make test-system`).

TEST_GUESTS := crash badcall spin sleeper flood exitcode peek bench nettool tcpxfer sched fpucheck hostile forge ctl ctlstat ticker blktest blkbench fsread fsposix fsbench memwalk
TEST_GUEST_ELFS := $(foreach g,$(TEST_GUESTS),$(O)/apps/$(g)/$(g).elf)

.PHONY: test-guests
test-guests: $(TEST_GUEST_ELFS)

$(O)/apps/ctl/ctl.elf: $(O)/apps/hello/hello.elf $(O)/apps/spin/spin.elf
$(O)/apps/ctlstat/ctlstat.elf: $(O)/apps/crash/crash.elf
$(TEST_GUEST_ELFS): $(O)/apps/%.elf: $(LIBOS_LIB) $(LIBOS_NET_LIB) $(LIBOS_FS_LIB) $(NEWLIB_STAMP) apps-force
	$(Q)$(MAKE) --no-print-directory -C tests/guests/$(*D) O=$(abspath $(O)) PV_TOP=1
