# shellcheck shell=bash
# timeout: 60
# What users read must match what the tools do: the man pages are valid
# mdoc and name every command and option that --help names, and every
# relative link in the Markdown documents leads to a file that exists.

# words_of_help TOOL...: the commands (first words of the indented lines)
# and the long options that TOOL --help prints, one per line.
words_of_help() {
	"$@" --help 2>&1 | awk '
		/^  [a-z]/ { print $1 }
		{ while (match($0, /--[a-z][a-z0-9-]*/)) { print substr($0, RSTART, RLENGTH); $0 = substr($0, RSTART + RLENGTH) } }
	' | sort -u
}

# man_mentions PAGE WORD: WORD appears in the page as a command (.Cm) or
# an option (.Fl, with its leading dash or dashes dropped as mdoc does).
man_mentions() {
	local page=$1 word=$2
	case $word in
	--*) grep -Eq "^\.(Fl|It Fl|Op Fl|Oo Fl) -${word#--}( |$)|Fl -${word#--}( |$)" "$page" ;;
	*) grep -Eq "(^|[ ])(\.)?Cm( [a-z|-]+)* ${word}( |$)|Cm ${word}( |$)" "$page" ;;
	esac
}

test_man_pages_lint() {
	local page n=0
	command -v mandoc >/dev/null || fail "mandoc missing (scripts/install-deps)"
	for page in "$ROOT"/man/*.8; do
		mandoc -Tlint -Wwarning "$page" || fail "mandoc -Tlint: $page"
		n=$((n + 1))
	done
	[ "$n" -ge 1 ] || fail "no man pages in man/"
	log "ok: $n man pages lint clean"
}

test_clean_dns_help_matches_man() {
	local page=$ROOT/man/clean-dns.8 word missing=
	for word in $(words_of_help "$ROOT/scripts/clean-dns"); do
		man_mentions "$page" "$word" || missing+=" $word"
	done
	[ -z "$missing" ] || fail "clean-dns --help names what clean-dns(8) does not:$missing"
	for word in hop-tolerance hop-max-age query-max-age mode; do
		"$ROOT/scripts/clean-dns" --help | grep -q "set $word " || fail "--help lacks set $word"
		man_mentions "$page" "$word" || fail "clean-dns(8) lacks set $word"
	done
	log "ok: every command and option of clean-dns --help is in clean-dns(8)"
}

# Every relative link [text](path) in README.md and docs/*.md and the
# tools' READMEs resolves to a file (anchors are not checked).
test_markdown_links_resolve() {
	local doc link target broken=
	for doc in "$ROOT"/README.md "$ROOT"/docs/*.md "$ROOT"/sk_skb/README.md \
		"$ROOT"/scripts/README.md "$ROOT"/bench/*.md "$ROOT"/tests/kernels/README.md; do
		[ -f "$doc" ] || continue
		while read -r link; do
			case $link in http* | \#* | mailto:*) continue ;; esac
			target=${link%%#*}
			[ -e "$(dirname "$doc")/$target" ] || broken+=" ${doc#"$ROOT"/}:$link"
		done < <(grep -o '\]([^)]*)' "$doc" | sed 's/^](//; s/)$//')
	done
	[ -z "$broken" ] || fail "links to nothing:$broken"
	log "ok: every relative link resolves"
}

test_sockfwd_load_help_matches_man() {
	local page=$ROOT/man/sockfwd-load.8 word help missing=
	help=$("$ROOT/scripts/sockfwd-load" --help) || fail "sockfwd-load --help failed"
	for word in load unload status help; do
		man_mentions "$page" "$word" || missing+=" $word"
	done
	for word in $(echo "$help" | grep -o ' -[a-z] ' | tr -d ' ' | sort -u); do
		grep -Eq "^\.(It|Op) Fl ${word#-}( |$)" "$page" || missing+=" $word"
	done
	[ -z "$missing" ] || fail "sockfwd-load --help names what sockfwd-load(8) does not:$missing"
	log "ok: sockfwd-load(8) has every command and option of --help"
}

test_sockfwd_help_matches_man() {
	local page=$ROOT/man/sockfwd.8 word missing=
	[ -x "$BUILD/sockfwd" ] || fail "$BUILD/sockfwd missing: run make"
	for word in $("$BUILD/sockfwd" --help 2>&1 | grep -o -- '--[a-z][a-z0-9-]*\| -[a-z] ' |
		tr -d ' ' | sort -u); do
		case $word in
		--*) grep -Eq "Fl -${word#--}( |$)|Fl -${word#--} Ns" "$page" || missing+=" $word" ;;
		*) grep -Eq "Fl ${word#-}( |$)" "$page" || missing+=" $word" ;;
		esac
	done
	[ -z "$missing" ] || fail "sockfwd --help names what sockfwd(8) does not:$missing"
	log "ok: every option of sockfwd --help is in sockfwd(8)"
}
