#!/bin/sh
# The bench's chart script draws a PNG from a CSV of the bench's columns.
#   check-bench-chart.sh SCRIPT CSV OUT.png
set -eu
command -v gnuplot >/dev/null 2>&1 || { echo "gnuplot not installed: skipped"; exit 77; }
rm -f "$3"
sh "$1" "$2" "$3"
sig=$(od -An -tx1 -N8 "$3" | tr -d ' \n')
[ "$sig" = 89504e470d0a1a0a ] || { echo "FAIL: $3 is not a PNG"; exit 1; }
echo "chart: $3"
