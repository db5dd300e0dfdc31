#!/bin/sh
# shmframe-bench-chart: the benchmark's chart, drawn by gnuplot from the
# CSV that `shmframe-bench --csv` writes (`shmframe-bench --plot` runs it).
#
#   shmframe-bench-chart BENCH.csv CHART.png
#
# Frames per second on a log scale (the modes differ by orders of
# magnitude), one group of bars per frame size, one bar per mode: solid up
# to the end-to-end rate (drawing included), light above it up to the rate
# of the transport alone.  Only the rows of the first row's client count
# and damage are drawn (one client and whole frames by default); the
# bench's table has the rest.  A mode measured with more than one kind of
# shared memory, or more than one signalling path, gets a bar per kind and
# path, darker for each further one.
set -eu

prog=shmframe-bench-chart
if [ $# -ne 2 ]; then
	echo "usage: $prog BENCH.csv CHART.png" >&2
	exit 2
fi
csv=$1
out=$2
if ! command -v gnuplot >/dev/null 2>&1; then
	echo "$prog: gnuplot is not installed (Debian: apt-get install" \
		"gnuplot-nox): no chart drawn; the figures are in $csv" >&2
	exit 127
fi
[ -r "$csv" ] || { echo "$prog: cannot read $csv" >&2; exit 1; }

tmp=$(mktemp -d "${TMPDIR:-/tmp}/shmframe-chart.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

# The CSV becomes, in $tmp/bars, one block per series (two blank lines
# apart) of "x width fps transport_fps label", and in $tmp/vars the
# gnuplot variables that describe them.  The columns are found by the
# names in the CSV's first line (mode, shm, size, clients, damage, fps,
# transport_fps, and signal when there is one: a CSV of a bench without
# signalling paths has none).
awk -F, -v bars="$tmp/bars" -v vars="$tmp/vars" '
# Colours as integers 0xRRGGBB; mix moves c the fraction t towards to.
function mix(c, to, t,    r, g, b) {
	r = int(c / 65536); g = int(c / 256) % 256; b = c % 256
	r = int(r + (int(to / 65536) - r) * t)
	g = int(g + (int(to / 256) % 256 - g) * t)
	b = int(b + (to % 256 - b) * t)
	return r * 65536 + g * 256 + b
}
function hex(c) { return sprintf("#%06x", c) }
# "950", "2.1k", "12k", "1.5M": three figures at most.
function short(v,    unit) {
	unit = ""
	if (v >= 1e6) { v /= 1e6; unit = "M" } else if (v >= 1e3) { v /= 1e3; unit = "k" }
	if (v < 10 && unit != "" && (v - int(v + 0.5) >= 0.05 || int(v + 0.5) - v >= 0.05))
		return sprintf("%.1f%s", v, unit)
	return sprintf("%.0f%s", v, unit)
}
function lg(v) { return log(v) / log(10) }
function floor_(v) { return v == int(v) || v > 0 ? int(v) : int(v) - 1 }
function ceil_(v) { return v == int(v) || v < 0 ? int(v) : int(v) + 1 }
BEGIN {
	n = 0; n_ser = 0; n_grp = 0
	# Tableau ten colours, in decimal: awk reads no hex.
	colour["shm-latch"] = 2062260; colour["shm-copy"] = 2924588
	colour["socket"] = 16744206; colour["memcpy-limit"] = 8355711
	colour["socket-limit"] = 9197131; colour["x11-putimage"] = 14034728
	colour["render-limit"] = 12369084
	colour["x11-shm"] = 9725885
}
NR == 1 {
	for (i = 1; i <= NF; i++) col[$i] = i
	if (!("mode" in col) || !("size" in col) || !("fps" in col)) {
		print "the CSV has no mode, size or fps column" > "/dev/stderr"; exit 1
	}
	next
}
function field(name) { return name in col ? $(col[name]) : "" }
field("fps") == "" || field("fps") + 0 <= 0 { next }
clients == "" { clients = field("clients"); damage = field("damage") }
field("clients") != clients || field("damage") != damage { next }
{
	n++
	mode[n] = field("mode"); shm[n] = field("shm"); sig[n] = field("signal")
	size[n] = field("size"); fps[n] = field("fps") + 0
	tfps[n] = field("transport_fps") + 0
	if (!((mode[n], shm[n], sig[n]) in kind_seen))
		kind_seen[mode[n], shm[n], sig[n]] = ++kinds[mode[n]]
	if (!((mode[n], shm[n]) in shm_seen)) {
		shm_seen[mode[n], shm[n]] = 1; shms[mode[n]]++
	}
	if (!((mode[n], sig[n]) in sig_seen)) {
		sig_seen[mode[n], sig[n]] = 1; sigs[mode[n]]++
	}
	if (!(size[n] in group)) { group[size[n]] = n_grp; grp_name[n_grp++] = size[n] }
}
END {
	if (n == 0) { print "no measured row in the CSV" > "/dev/stderr"; exit 1 }
	lo = 1e300; hi = 0
	for (i = 1; i <= n; i++) {
		s = mode[i]
		if (shms[mode[i]] > 1 && shm[i] != "") s = s "/" shm[i]
		if (sigs[mode[i]] > 1 && sig[i] != "") s = s "/" sig[i]
		if (!(s in series)) {
			series[s] = n_ser
			ser_name[n_ser] = s
			c = mode[i] in colour ? colour[mode[i]] : 5592405
			k = kind_seen[mode[i], shm[i], sig[i]]
			shade = k == 1 ? 0 : k == 2 ? 0.3 : k == 3 ? 0.5 : 0.65
			solid = mix(c, 0, shade)
			ser_solid[n_ser] = hex(solid)
			ser_light[n_ser] = hex(mix(solid, 16777215, 0.6))
			n_ser++
		}
		ser[i] = series[s]
		if (fps[i] < lo) lo = fps[i]
		if (fps[i] > hi) hi = fps[i]
		if (tfps[i] > hi) hi = tfps[i]
	}
	bw = 0.84 / n_ser
	if (bw > 0.2) bw = 0.2
	for (s = 0; s < n_ser; s++) {
		if (s) print "\n" > bars
		for (i = 1; i <= n; i++) {
			if (ser[i] != s) continue
			x = group[size[i]] + (s - (n_ser - 1) / 2) * bw
			top = tfps[i] > fps[i] ? tfps[i] : fps[i]
			printf "%.4f %.4f %s %s %s\n", x, bw * 0.9, fps[i], top,
			       short(fps[i]) > bars
		}
	}
	names = ""; solids = ""; lights = ""; tics = ""
	for (s = 0; s < n_ser; s++) {
		names = names " " ser_name[s]
		solids = solids " " ser_solid[s]
		lights = lights " " ser_light[s]
	}
	for (g = 0; g < n_grp; g++)
		tics = tics (g ? ", " : "") "\"" grp_name[g] "\" " g
	what = damage == "full" ? "whole frames" : "damage " damage
	printf "n_ser = %d\nn_grp = %d\n", n_ser, n_grp > vars
	printf "names = \"%s\"\nsolids = \"%s\"\nlights = \"%s\"\n", names, solids, lights > vars
	printf "set xtics (%s)\n", tics > vars
	# Whole decades, at least one.
	d_lo = floor_(lg(lo)); d_hi = ceil_(lg(hi))
	if (d_hi <= d_lo) d_hi = d_lo + 1
	printf "bottom = %g\nset yrange [%g:%g]\n", 10 ^ d_lo, 10 ^ d_lo, 10 ^ d_hi > vars
	printf "subtitle = \"%d client%s, %s, 4 bytes a pixel\"\n", clients, clients == 1 ? "" : "s", what > vars
	# The key takes a line per four series or so, under the x label.
	printf "set bmargin %d\n", 5 + int((n_ser + 3) / 4) > vars
}' "$csv"

gnuplot <<EOF
set terminal pngcairo size 1280,720 font "DejaVu Sans,11" noenhanced
set output "$out"
load "$tmp/vars"
set title "shmframe-bench: frames per second by mode and frame size\n" . \
	"solid: end to end, drawing included; light: the transport alone; " . \
	subtitle font ",13"
set ylabel "frames per second (log scale)"
set xlabel "frame size (width x height, pixels)"
set logscale y
set format y "%.0s%c"
set mytics 10
set grid ytics mytics lc rgb "#d8d8d8", lc rgb "#f0f0f0"
set xrange [-0.5:n_grp - 0.5]
set xtics nomirror scale 0
set ytics nomirror
set border 3
set key outside below center horizontal reverse Left samplen 1.5 width 2
set style fill solid 1.0 noborder
plot for [s = 1:n_ser] "$tmp/bars" index (s - 1) \
	using 1:4:(\$1 - \$2 / 2):(\$1 + \$2 / 2):(bottom):4 \
	with boxxyerror lc rgb word(lights, s) notitle, \
     for [s = 1:n_ser] "$tmp/bars" index (s - 1) \
	using 1:3:(\$1 - \$2 / 2):(\$1 + \$2 / 2):(bottom):3 \
	with boxxyerror lc rgb word(solids, s) title word(names, s), \
     for [s = 1:n_ser] "$tmp/bars" index (s - 1) \
	using 1:3:5 with labels offset 0,0.6 font ",8" notitle
EOF
