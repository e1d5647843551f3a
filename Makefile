# git-ws: parallel, dependency-ordered development in git worktrees.
#
#   make                 build the binaries
#   make test            unit tests (cmocka) and shell tests (sharness, prove)
#   make SANITIZE=address,undefined test
#   make install [prefix=...] [DESTDIR=...]
#   make V=1             show the commands
#   make agent-clis      install the agent CLIs the agent tests run (npm)

prefix ?= $(HOME)/.local
bindir ?= $(prefix)/bin
datadir ?= $(prefix)/share
mandir ?= $(datadir)/man
bashcompdir ?= $(datadir)/bash-completion/completions
zshcompdir ?= $(datadir)/zsh/site-functions
# git-ws finds its hooks from where its binaries are, as
# <bindir>/../share/git-ws/hooks (common/guard.h), whatever datadir is.
hooksdir = $(bindir)/../share/git-ws/hooks
# ... and its helper programs in <bindir>/../libexec/git-ws (common/run.h:
# WS_SUPERVISOR_REL), whatever libexecdir is.
helperdir = $(bindir)/../libexec/git-ws

CC ?= cc
PKG_CONFIG ?= pkg-config
PROVE ?= prove
INSTALL ?= install
ASCIIDOCTOR ?= asciidoctor

DEPS_CFLAGS := $(shell $(PKG_CONFIG) --cflags libgit2 inih jansson 2>/dev/null)
DEPS_LIBS := $(shell $(PKG_CONFIG) --libs libgit2 inih jansson 2>/dev/null)
CMOCKA_LIBS := $(shell $(PKG_CONFIG) --libs cmocka 2>/dev/null)

CFLAGS ?= -O2 -g
WS_CFLAGS = -pthread -std=gnu99 -Wall -Wextra -Werror -Wno-unused-parameter -Wno-missing-field-initializers \
	-Wmissing-prototypes -Wstrict-prototypes -Wshadow -Wformat=2 \
	-I. -Icommon $(DEPS_CFLAGS)
WS_LDFLAGS = -pthread
ifdef SANITIZE
WS_CFLAGS += -fsanitize=$(SANITIZE) -fno-omit-frame-pointer -fno-sanitize-recover=all
WS_LDFLAGS += -fsanitize=$(SANITIZE)
BUILD = build-sanitize
else
BUILD = build
endif

ifndef V
QUIET_CC = @echo '   ' CC $@;
QUIET_LINK = @echo '   ' LINK $@;
QUIET_DOC = @echo '   ' DOC $@;
endif

COMMANDS = $(patsubst cmd/%.c,%,$(wildcard cmd/git-ws-*.c))
PROGRAMS = $(addprefix $(BUILD)/bin/,$(COMMANDS))
LIB_SRC = $(filter-out common/main.c,$(wildcard common/*.c))
LIB_OBJ = $(patsubst %.c,$(BUILD)/%.o,$(LIB_SRC))
LIB = $(BUILD)/libws.a
UNIT_SRC = $(wildcard t/unit/*.c)
UNIT_BIN = $(patsubst t/unit/%.c,$(BUILD)/t/unit/%,$(UNIT_SRC))
MAN1 = $(patsubst Documentation/%.adoc,Documentation/%.1,$(wildcard Documentation/git-ws-*.adoc))
MAN7 = $(patsubst Documentation/%.adoc,Documentation/%.7,$(wildcard Documentation/git-ws.adoc))

SUPERVISOR = $(BUILD)/libexec/git-ws/ws-supervise

all: $(PROGRAMS) $(SUPERVISOR) $(BUILD)/share/git-ws/hooks/git-ws-hook bin-wrappers

$(BUILD)/%.o: %.c $(wildcard common/*.h) Makefile
	@mkdir -p $(dir $@)
	$(QUIET_CC)$(CC) $(CFLAGS) $(WS_CFLAGS) -c -o $@ $<

$(LIB): $(LIB_OBJ)
	@rm -f $@
	$(QUIET_LINK)$(AR) rcs $@ $^

$(BUILD)/bin/%: $(BUILD)/cmd/%.o $(BUILD)/common/main.o $(LIB)
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(CFLAGS) $(WS_LDFLAGS) -o $@ $^ $(DEPS_LIBS) $(LDFLAGS)

# The supervisor of dispatched commands: started for every command, so
# linked --as-needed, with nothing it does not call (no libgit2 to load).
$(SUPERVISOR): $(BUILD)/cmd/ws-supervise.o $(LIB)
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(CFLAGS) $(WS_LDFLAGS) -Wl,--as-needed -o $@ $^ $(DEPS_LIBS) $(LDFLAGS)

$(BUILD)/t/unit/%: $(BUILD)/t/unit/%.o $(LIB)
	@mkdir -p $(dir $@)
	$(QUIET_LINK)$(CC) $(CFLAGS) $(WS_LDFLAGS) -o $@ $^ $(DEPS_LIBS) $(CMOCKA_LIBS) $(LDFLAGS)

# The guard's hooks (common/guard.h): hooks/git-ws-hook under the name of
# every hook of githooks(5) (git 2.39), as symbolic links, in
# <build>/share/git-ws/hooks beside <build>/bin, where the binaries look
# for them, as they look in <prefix>/share/git-ws/hooks once installed.
GUARD_HOOKS = applypatch-msg pre-applypatch post-applypatch pre-commit \
	pre-merge-commit prepare-commit-msg commit-msg post-commit pre-rebase \
	post-checkout post-merge pre-push pre-receive update proc-receive \
	post-receive post-update reference-transaction push-to-checkout \
	pre-auto-gc post-rewrite sendemail-validate post-index-change \
	p4-changelist p4-prepare-changelist p4-post-changelist p4-pre-submit

$(BUILD)/share/git-ws/hooks/git-ws-hook: hooks/git-ws-hook Makefile
	@mkdir -p $(dir $@)
	@cp hooks/git-ws-hook $@.tmp && chmod 755 $@.tmp && mv $@.tmp $@
	@for h in $(GUARD_HOOKS); do ln -sfn git-ws-hook $(dir $@)$$h || exit 1; done

# The tests put bin-wrappers/ on PATH: it points at the build that was
# made last, so `make SANITIZE=... test` tests the sanitized binaries.
# `make build/bin/git-ws-alloc bin-wrappers` builds one command alone.
bin-wrappers:
	@mkdir -p bin-wrappers
	@for p in $(COMMANDS); do ln -sfn ../$(BUILD)/bin/$$p bin-wrappers/$$p; done
.PHONY: bin-wrappers

SHELL_PATH ?= /bin/sh
PROVE_OPTS ?= -j2
# The two longest scripts first, so that prove -j runs the others beside
# them rather than leaving one of them to run alone at the end.
T_SLOW = t9600-kill.sh t7000-e2e.sh
T = $(T_SLOW) $(filter-out $(T_SLOW),$(sort $(notdir $(wildcard t/t[0-9][0-9][0-9][0-9]-*.sh))))

# As git's test-lib: leak reports off (die() exits with memory held).
test unit-test: export ASAN_OPTIONS ?= detect_leaks=0:abort_on_error=1
test unit-test: export UBSAN_OPTIONS ?= print_stacktrace=1:halt_on_error=1

test: all $(UNIT_BIN)
	@set -e; for u in $(UNIT_BIN); do echo "*** $$u"; $$u; done
	cd t && $(PROVE) --exec '$(SHELL_PATH)' $(PROVE_OPTS) $(T)

unit-test: $(UNIT_BIN)
	@set -e; for u in $(UNIT_BIN); do $$u; done

# The coding-agent CLIs git ws-agent is tested with, at pinned versions,
# under $(GIT_WS_AGENT_CACHE) (default ~/.cache/git-ws/agent-clis), outside
# the repository; prints their bin directory.
agent-clis:
	@$(SHELL_PATH) t/agent-clis.sh
.PHONY: agent-clis

# libFuzzer targets for the plan parser and the state reader (needs clang).
fuzz:
	$(MAKE) -C fuzz

doc: $(MAN1) $(MAN7)

Documentation/%.1 Documentation/%.7: Documentation/%.adoc
	$(QUIET_DOC)$(ASCIIDOCTOR) -b manpage -o $@ $<

# Paths quoted for the shell, as git's Makefile does (a prefix may hold spaces).
DESTDIR_SQ = $(subst ','\'',$(DESTDIR))
bindir_SQ = $(subst ','\'',$(bindir))
mandir_SQ = $(subst ','\'',$(mandir))
bashcompdir_SQ = $(subst ','\'',$(bashcompdir))
zshcompdir_SQ = $(subst ','\'',$(zshcompdir))
hooksdir_SQ = $(subst ','\'',$(hooksdir))
helperdir_SQ = $(subst ','\'',$(helperdir))

install: all
	$(INSTALL) -d '$(DESTDIR_SQ)$(bindir_SQ)'
	$(INSTALL) -m 755 $(PROGRAMS) '$(DESTDIR_SQ)$(bindir_SQ)'
	$(INSTALL) -d '$(DESTDIR_SQ)$(helperdir_SQ)'
	$(INSTALL) -m 755 $(SUPERVISOR) '$(DESTDIR_SQ)$(helperdir_SQ)'
	$(INSTALL) -d '$(DESTDIR_SQ)$(hooksdir_SQ)'
	$(INSTALL) -m 755 hooks/git-ws-hook '$(DESTDIR_SQ)$(hooksdir_SQ)'
	@for h in $(GUARD_HOOKS); do ln -sfn git-ws-hook '$(DESTDIR_SQ)$(hooksdir_SQ)'/$$h || exit 1; done
	@if command -v $(ASCIIDOCTOR) >/dev/null && [ -n "$(MAN1)" ]; then \
		$(MAKE) doc && \
		$(INSTALL) -d '$(DESTDIR_SQ)$(mandir_SQ)/man1' '$(DESTDIR_SQ)$(mandir_SQ)/man7' && \
		$(INSTALL) -m 644 $(MAN1) '$(DESTDIR_SQ)$(mandir_SQ)/man1' && \
		{ [ -z "$(MAN7)" ] || $(INSTALL) -m 644 $(MAN7) '$(DESTDIR_SQ)$(mandir_SQ)/man7'; }; \
	else echo "warning: man pages not installed (asciidoctor missing)"; fi
	@if [ -f completions/git-ws.bash ]; then \
		$(INSTALL) -d '$(DESTDIR_SQ)$(bashcompdir_SQ)' && \
		for p in $(COMMANDS); do $(INSTALL) -m 644 completions/git-ws.bash '$(DESTDIR_SQ)$(bashcompdir_SQ)'/$$p; done; fi
	@if [ -f completions/_git-ws ]; then \
		$(INSTALL) -d '$(DESTDIR_SQ)$(zshcompdir_SQ)' && \
		$(INSTALL) -m 644 completions/_git-ws '$(DESTDIR_SQ)$(zshcompdir_SQ)/_git-ws' && \
		for p in $(COMMANDS); do $(INSTALL) -m 644 completions/_git-ws '$(DESTDIR_SQ)$(zshcompdir_SQ)'/_$$p; done; fi

uninstall:
	for p in $(COMMANDS); do \
		rm -f '$(DESTDIR_SQ)$(bindir_SQ)'/$$p '$(DESTDIR_SQ)$(mandir_SQ)'/man1/$$p.1 \
		      '$(DESTDIR_SQ)$(bashcompdir_SQ)'/$$p '$(DESTDIR_SQ)$(zshcompdir_SQ)'/_$$p; \
	done
	rm -f '$(DESTDIR_SQ)$(mandir_SQ)/man7/git-ws.7' '$(DESTDIR_SQ)$(zshcompdir_SQ)/_git-ws'
	for h in git-ws-hook $(GUARD_HOOKS); do rm -f '$(DESTDIR_SQ)$(hooksdir_SQ)'/$$h; done
	rm -f '$(DESTDIR_SQ)$(helperdir_SQ)'/ws-supervise
	-rmdir '$(DESTDIR_SQ)$(hooksdir_SQ)' '$(DESTDIR_SQ)$(bindir_SQ)/../share/git-ws' 2>/dev/null
	-rmdir '$(DESTDIR_SQ)$(helperdir_SQ)' 2>/dev/null

clean:
	rm -rf build build-sanitize bin-wrappers Documentation/*.1 Documentation/*.7
	rm -rf t/trash\ directory.* t/test-results

.PHONY: all test unit-test doc install uninstall clean fuzz
.SECONDARY:
