# arctool keygen, testkey and check-config on real files, users and a
# private unbound (tests/keys.sh); under the e2e lock like every daemon run.
CHECKS	+= keys-check

.PHONY: keys-check
keys-check: $(BUILD)/arctool
	flock /tmp/arc-e2e.lock bash tests/keys.sh $(abspath $(BUILD)/arctool)
