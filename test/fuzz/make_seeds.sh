#!/usr/bin/env bash
# test/fuzz/make_seeds.sh: build the fuzzers' seed folders under build/fuzz/seeds/.
#
#   build/fuzz/seeds/pprof       inflated corpus files and pprof re-encodings, and
#                                hand-built profiles (seed_builder, test/common/pb_builder.c)
#   build/fuzz/seeds/stored      raw and zstd stored values of corpus trees and prefixes
#   build/fuzz/seeds/folded      folded texts (first byte: the target's mode) + samples below
#   build/fuzz/seeds/merge_diff  pairs in the fuzz_merge_diff layout + folded pairs below
#   build/fuzz/seeds/gateway     requests' parts for fuzz_gateway (first byte: the parser):
#                                names, multipart bodies, Push messages (protobuf, JSON),
#                                sample_type_config, and corpus pprof files for the row split
#
# The corpus (../shared/corpus/pprof, or $PROFILE_EXT_CORPUS/pprof) is read, never copied
# into the repository; without it only the hand-written and hand-built samples are made.
# Usage: test/fuzz/make_seeds.sh [SEED_DIR]
set -euo pipefail
REPO=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$REPO"
SEEDS=${1:-build/fuzz/seeds}
CORPUS=${PROFILE_EXT_CORPUS:-$REPO/../shared/corpus}/pprof
CC=${CC:-cc}

mkdir -p "$SEEDS"/{pprof,stored,folded,merge_diff,gateway}
[ -f src/core/profile.pb-c.h ] ||
	protoc-c --c_out=src/core --proto_path=src/core src/core/profile.proto

builder=$(mktemp)
core=$(ls src/core/*.c | grep -v 'profile.pb-c.c$')
# shellcheck disable=SC2086
$CC -std=gnu11 -O1 -g -Wall -Wextra -Wno-unused-parameter -Wno-sign-compare \
	-Wno-missing-field-initializers -Isrc/core -Itest/common -o "$builder" \
	test/fuzz/seed_builder.c test/common/pb_builder.c $core src/core/profile.pb-c.c \
	-lprotobuf-c -lzstd -ldeflate -lz
# without the corpus it writes only its hand-built pprof seeds
"$builder" "$CORPUS" "$SEEDS"
rm -f "$builder"

# A hand-written seed: the target's mode byte, then the input.
hand_seed() { # DIR NAME MODE TEXT (printf format)
	{ printf "\\x$3"; printf "$4"; } >"$SEEDS/$1/hand_$2"
}

# Hand-written folded texts: mode byte 0 = one sample type, 1 = two.
folded() { hand_seed folded "$@"; }
folded basic 00 'main;work 3\nmain;idle 1\ngc -2\n'
folded root_self 00 ' 42\nmain 1\n'
folded spaces 00 'java.lang.Thread.run() [file];a b c 10\r\nx 1  \n\n'
folded utf8 00 'caf\xc3\xa9;\xe2\x98\x83 5\nbad\xff\xfe;nul\x00x 2\n'
folded dup 00 'a;b 1\na;b 2\na;b -3\n'
folded big 00 'a 9223372036854775807\nb -9223372036854775808\n'
folded overflow 00 'a 9223372036854775807\na 1\n'
folded two 01 'main;work 3 30\nmain;idle 1 10\n 0 5\n'
folded deep 00 "$(printf 'f;%.0s' $(seq 1 300))leaf 7\\n"

# Folded pairs for fuzz_merge_diff: u32le split, mode 0x03 (both halves folded).
pair() { # NAME MODE A B
	local a=$3 b=$4 n
	n=$(printf "$a" | wc -c)
	local head
	head=$(printf '\\x%02x\\x%02x\\x%02x\\x%02x\\x%s' $((n & 255)) $((n >> 8 & 255)) \
		$((n >> 16 & 255)) $((n >> 24 & 255)) "$2")
	{ printf "$head"; printf "$a"; printf "$b"; } >"$SEEDS/merge_diff/hand_$1"
}
pair basic 03 'main;work 3\nmain;idle 1\ngc -2\n' 'main;work 1\nmain;new 4\n'
pair two 07 'main;work 3 30\nmain;idle 1 10\n' 'main;work 1 1\ngc 2 2\n'
pair neg 23 'a;b -5\na;c 5\n' 'a;b 5\na;c -5\na 1\n'
pair recursion 0b 'a;b;a;b 4\na;b 1\n' 'b;a;b 2\nx 1\n'

# fuzz_gateway: mode byte, then the input (see test/fuzz/fuzz_gateway.c).
gw() { hand_seed gateway "$@"; }
gw name 00 'checkout{env=prod, region=eu-west-1,version=v2}'
gw name_odd 00 'my.app/svc-1{__session_id__=abc,a=,=b,,c=d e}'
gw name_utf8 00 'app{k=caf\xc3\xa9,bad=\xff\xfe,nul=a\x00b}'
gw name_open 00 'app{a=1,b'
mpart='--B\r\nContent-Disposition: form-data; name="profile"; filename="profile.pprof"\r\n'
mpart+='Content-Type: application/octet-stream\r\n\r\n\x0a\x04\x08\x01\x10\x02\r\n'
mpart+='--B\r\nContent-Disposition: form-data; name="sample_type_config"\r\n\r\n'
mpart+='{"contentions":{"display-name":"mutex_count","units":"lock_samples"}}\r\n--B--\r\n'
gw multipart 01 "multipart/form-data; boundary=B\n$mpart"
gw multipart_quoted 01 'multipart/form-data; boundary="a b"\n--a b\r\nContent-Disposition: form-data; name=x\r\n\r\n\r\n--a b--'
# PushRequest{series{labels{__name__=process_cpu} samples{raw_profile="\x0a\x00" ID="i"}}}
gw push_proto 02 '\x0a\x22\x0a\x17\x0a\x08__name__\x12\x0bprocess_cpu\x12\x07\x0a\x02\x0a\x00\x12\x01i'
gw push_json 03 '{"series":[{"labels":[{"name":"__name__","value":"process_cpu"},{"name":"service_name","value":"a\\u00e9\\ud83d\\ude00"}],"samples":[{"rawProfile":"CgQIARAC","ID":"x"},{"raw_profile":"H4sIAAAAAAAA/w=="}]}]}'
gw type_config 04 '{"alloc_space":{"units":"bytes","display-name":"alloc_space"},"inuse_space":{"aggregation":"average","cumulative":false}}'
gw time_s 06 '1796160419'
gw time_ns 06 '1796160167440531322'
gw time_big 06 '99999999999999999999999'
{ printf '\x07'; head -c 100000 /dev/zero | gzip -c; printf 'a' | gzip -c; } >"$SEEDS/gateway/hand_gzip"
if [ -d "$CORPUS" ]; then
	for f in og_convert_pprof__cpu.pb.gz pprof__go.cpu.labels.pprof og_convert_pprof__nodejs-wall.pb.gz \
		og_convert_pprof__heap.pb.gz og_convert_pprof__req_3.pprof; do
		[ -f "$CORPUS/$f" ] && { printf '\x05'; cat "$CORPUS/$f"; } >"$SEEDS/gateway/corpus_$f"
	done
fi

for d in pprof stored folded merge_diff gateway; do
	printf '%-11s %5d seeds\n' "$d" "$(ls "$SEEDS/$d" | wc -l)"
done
