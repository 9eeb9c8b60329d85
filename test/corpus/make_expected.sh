#!/usr/bin/env bash
# Regenerates the checked-in expected values under test/corpus/expected/ from the
# shared pprof corpus, using `go tool pprof` (the reference implementation).
#
#   test/corpus/make_expected.sh            # corpus at <repo>/../shared/corpus
#   PROFILE_EXT_CORPUS=/path/to/corpus test/corpus/make_expected.sh
#
# Inputs (next to this script):
#   groups.tsv  group <TAB> sample type <TAB> file...   -> expected/top/<group>.tsv
#   diffs.tsv   name <TAB> sample type <TAB> base <TAB> new -> expected/diff/<name>.tsv
# Every output row is  function <TAB> flat <TAB> cum  in pprof's -top order, with
# exact integers in the sample type's raw unit.
#
# How exact integers are obtained from `pprof -top`: pprof formats a value with
# measurement.ScaledLabel(v, sampleUnit, -unit), i.e. fmt "%.2f" of float64(v)
# scaled from the sample unit to the -unit unit, with a trailing ".00" removed and
# a unit suffix appended. Passing the sample type's OWN unit as -unit (nanoseconds
# -> "ns", bytes -> "B", microseconds -> "us", count -> no suffix) makes the
# scale factor exactly 1, so every value is printed as an exact integer (all
# values here are far below 2^53). Do NOT pass e.g. -unit=count for a time unit:
# pprof then converts to its default unit (seconds) and rounds. The parser below
# refuses any value with a decimal point, and each report is cross-checked:
# the sum of the flat column must equal the MANIFEST.tsv total(s).
#
# Other flags, and why:
#   -top            flat/cum per function (granularity "functions": one row per
#                   function NAME; filename, line and address are discarded)
#   -nodefraction=0 keep every node (default 0.005 drops small ones)
#   -nodecount=0    for -top, 0 means "no limit" (it is the default for text
#                   output; spelled out so the intent is visible)
#   -symbolize=none never look for local binaries: the result must depend on the
#                   corpus files only
#   -sample_index   the sample type, by name
# HOME, GOCACHE, TMPDIR and PPROF_TMPDIR point into a temp dir so nothing is
# read from or written to the user's home, and PPROF_BINARY_PATH to an empty dir.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/../.." && pwd)
corpus=${PROFILE_EXT_CORPUS:-$root/../shared/corpus}
if [ ! -f "$corpus/MANIFEST.tsv" ] || [ ! -d "$corpus/pprof" ]; then
    echo "make_expected.sh: corpus not found at '$corpus' (set PROFILE_EXT_CORPUS)" >&2
    exit 1
fi
corpus=$(cd "$corpus" && pwd)
manifest=$corpus/MANIFEST.tsv
command -v go >/dev/null || { echo "make_expected.sh: 'go' (go tool pprof) not found" >&2; exit 1; }
command -v perl >/dev/null || { echo "make_expected.sh: perl not found" >&2; exit 1; }

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
mkdir -p "$tmp/home" "$tmp/gocache" "$tmp/bin"
export HOME=$tmp/home GOCACHE=$tmp/gocache TMPDIR=$tmp PPROF_TMPDIR=$tmp PPROF_BINARY_PATH=$tmp/bin

pprof() { go tool pprof -symbolize=none "$@"; }

# manifest_field FILE TYPE WHAT: unit (WHAT=unit) or total (WHAT=total) of sample
# type TYPE of FILE, as recorded in MANIFEST.tsv (sample_types "t/u,t/u",
# totals "n,n" in the same order). Fails if the file or type is not there.
manifest_field() {
    perl -F'\t' -lane '
        BEGIN { ($f, $t, $what) = splice(@ARGV, 0, 3); $found = 0 }
        next unless $F[0] eq $f && $F[1] eq "accepts";
        my @st = split /,/, $F[2]; my @tot = split /,/, $F[3];
        for my $i (0 .. $#st) {
            my ($type, $unit) = split m{/}, $st[$i], 2;
            next unless $type eq $t;
            print($what eq "unit" ? $unit : $tot[$i]); $found = 1;
        }
        END { exit($found ? 0 : 1) }' "$1" "$2" "$3" "$manifest" \
    || { echo "make_expected.sh: '$1' has no accepted sample type '$2' in MANIFEST.tsv" >&2; return 1; }
}

# parse_top OUT EXPECTED_FLAT_SUM LABEL < pprof -top output
# Writes OUT as function<TAB>flat<TAB>cum and checks the result. pprof's row is
#   printf("%10s %s %s %10s %s  %s%s\n", flat, flat%, sum%, cum, cum%, name, inl)
# where inl is "" or " (inline)" / " (partial-inline)": a display marker telling
# whether the function was reached through inlined call edges, not part of the
# function's name, so it is removed. The name starts after exactly two spaces.
parse_top() {
    perl -e '
        use strict; use warnings;
        my ($out, $want, $label) = @ARGV;
        my ($in_rows, $sum, $n, %seen, @rows) = (0, 0, 0);
        sub value {
            my ($s) = @_;
            return 0 if $s eq "0";
            # Integer followed by an optional alphabetic unit suffix (ns, us, B,
            # or none for counts). A "." would mean pprof rounded: refuse.
            $s =~ /^(-?\d+)[A-Za-z]*$/ or die "$label: value \"$s\" is not an exact integer\n";
            return $1 + 0;
        }
        while (my $line = <STDIN>) {
            chomp $line;
            if (!$in_rows) {
                $in_rows = 1 if $line =~ /^\s*flat\s+flat%\s+sum%\s+cum\s+cum%\s*$/;
                die "$label: pprof dropped nodes: $line\n" if $line =~ /^Dropped /;
                next;
            }
            $line =~ /^\s*(\S+)\s+\S+\s+\S+\s+(\S+)\s+\S+  (.*)$/
                or die "$label: cannot parse row: $line\n";
            my ($flat, $cum, $name) = (value($1), value($2), $3);
            $name =~ s/ \((partial-)?inline\)$//;
            die "$label: name with TAB: $name\n" if $name =~ /\t/;
            # Unsymbolized frames: the extension names them by address instead.
            die "$label: unsymbolized frame \"$name\" (exclude this file)\n"
                if $name =~ /^\[.*\]$/ || $name eq "<unknown>" || $name =~ /^[0-9a-f]{16}( |$)/;
            die "$label: function \"$name\" listed twice\n" if $seen{$name}++;
            push @rows, "$name\t$flat\t$cum\n";
            $sum += $flat;
        }
        die "$label: no -top table in pprof output\n" unless $in_rows;
        die "$label: sum of flat is $sum, expected $want\n" unless $sum == $want;
        die "$label: no rows although the total is $want\n" if !@rows && $want != 0;
        open(my $fh, ">", $out) or die "$out: $!\n";
        print $fh @rows;
        close $fh or die "$out: $!\n";
        printf "%-45s %5d rows  flat sum %s\n", $label, scalar(@rows), $sum;
    ' "$@"
}

out=$here/expected
mkdir -p "$out/top" "$out/diff"
# Start from scratch so that a group removed from groups.tsv leaves no stale file.
rm -f "$out"/top/*.tsv "$out"/diff/*.tsv

echo "== top: groups.tsv -> expected/top/"
while IFS=$'\t' read -r -a f; do
    [ "${#f[@]}" -eq 0 ] && continue
    case ${f[0]} in ''|'#'*) continue ;; esac
    group=${f[0]} type=${f[1]} files=("${f[@]:2}")
    [ "${#files[@]}" -ge 1 ] || { echo "groups.tsv: group $group lists no file" >&2; exit 1; }
    # The unit is taken from the first file; pprof refuses to merge files whose
    # sample types differ, so it is the same for all. The expected flat sum of a
    # merge is the sum of the files' totals.
    unit=$(manifest_field "${files[0]}" "$type" unit)
    want=0 paths=()
    for file in "${files[@]}"; do
        want=$((want + $(manifest_field "$file" "$type" total)))
        paths+=("$corpus/pprof/$file")
    done
    pprof -top -nodefraction=0 -nodecount=0 -sample_index="$type" -unit="$unit" \
          "${paths[@]}" >"$tmp/top.txt" 2>"$tmp/err.txt" \
        || { echo "pprof failed for group $group:" >&2; cat "$tmp/err.txt" >&2; exit 1; }
    parse_top "$out/top/$group.tsv" "$want" "$group" <"$tmp/top.txt"
done <"$here/groups.tsv"

echo "== diff: diffs.tsv -> expected/diff/"
while IFS=$'\t' read -r -a f; do
    [ "${#f[@]}" -eq 0 ] && continue
    case ${f[0]} in ''|'#'*) continue ;; esac
    name=${f[0]} type=${f[1]} base=${f[2]} new=${f[3]}
    unit=$(manifest_field "$new" "$type" unit)
    # -diff_base negates the base's samples and merges them with the new ones
    # (tagged so they stay separate samples), so flat sums to new - base.
    want=$(( $(manifest_field "$new" "$type" total) - $(manifest_field "$base" "$type" total) ))
    pprof -top -nodefraction=0 -nodecount=0 -sample_index="$type" -unit="$unit" \
          -diff_base="$corpus/pprof/$base" "$corpus/pprof/$new" >"$tmp/top.txt" 2>"$tmp/err.txt" \
        || { echo "pprof failed for diff $name:" >&2; cat "$tmp/err.txt" >&2; exit 1; }
    parse_top "$out/diff/$name.tsv" "$want" "$name" <"$tmp/top.txt"
done <"$here/diffs.tsv"

# Totals: for every file that MANIFEST.tsv says pprof accepts, and every sample
# type, the "of <total> total" pprof prints must equal the manifest. This only
# confirms the manifest (no totals.tsv is written: tests should read MANIFEST.tsv).
echo "== totals: pprof vs MANIFEST.tsv"
checked=0
while IFS=$'\t' read -r file verdict types totals; do
    [ "$verdict" = accepts ] || continue
    IFS=, read -r -a st <<<"$types"
    IFS=, read -r -a tot <<<"$totals"
    for i in "${!st[@]}"; do
        type=${st[$i]%%/*} unit=${st[$i]#*/}
        pprof -top -nodefraction=0 -nodecount=0 -sample_index="$type" -unit="$unit" \
              "$corpus/pprof/$file" >"$tmp/top.txt" 2>"$tmp/err.txt" \
            || { echo "pprof failed for $file ($type):" >&2; cat "$tmp/err.txt" >&2; exit 1; }
        got=$(perl -ne 'if (/^Showing nodes accounting for .* of (\S+) total/) {
                            $v = $1; $v =~ s/^(-?\d+)[A-Za-z]*$/$1/ or die "inexact total $v\n";
                            print $v; last }' "$tmp/top.txt")
        if [ "$got" != "${tot[$i]}" ]; then
            echo "totals: $file $type: pprof says '$got', MANIFEST.tsv says '${tot[$i]}'" >&2
            exit 1
        fi
        checked=$((checked + 1))
    done
done < <(tail -n +2 "$manifest")
echo "totals: all $checked (file, sample type) totals equal MANIFEST.tsv"
