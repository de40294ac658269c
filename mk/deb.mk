# mk/deb.mk - the Debian packages (debian/, debian/README.source).
#
#   make deb-check   (part of make check; root) scripts/deb-check.sh:
#		     dpkg-buildpackage -b in a throwaway copy of the working
#		     tree, lintian, apt-get install of the packages, checks of
#		     what they install (users, key directories, conffiles, the
#		     unit, stripped programs, libarc.so.1's exports, pkg-config,
#		     the Exim snippet, the milter run as its unit runs it and
#		     reloaded by ExecReload's signal), the MTA end-to-end tests
#		     against the installed programs, then purge.  Artifacts and
#		     logs in $(BUILD)/deb-check.
#   make lib-check   (part of make check) libarc.so.1 exports exactly the
#		     public headers' functions, each header compiles alone.
#   make deb         just the packages, in ../ of a throwaway copy (use
#		     deb-check to test them).

CHECKS	+= lib-check deb-check

.PHONY: deb-check deb

deb-check:
	bash scripts/deb-check.sh $(abspath $(BUILD))/deb-check

deb:
	DEB_CHECK_BUILD_ONLY=1 bash scripts/deb-check.sh \
	    $(abspath $(BUILD))/deb-check
