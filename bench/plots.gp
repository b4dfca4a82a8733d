# Plots of one raftmeta-bench run (scripts/bench.sh calls this when gnuplot
# is installed):
#   gnuplot -e "stem='bench/results/<date>'" bench/plots.gp
# reads <stem>-throughput.dat and <stem>-latency.dat, writes
# <stem>-throughput.png and <stem>-latency.png.
set terminal pngcairo size 900,560 font ",10"
set grid

set output stem."-throughput.png"
set title "Writes/s against outstanding clients (256-byte values, fsync per commit, 3 members)"
set xlabel "outstanding clients (log scale)"
set ylabel "acknowledged writes per second"
set logscale x 2
set key top left
plot stem."-throughput.dat" using 1:2 with linespoints lw 2 title "raftmeta (CommitOffsets)", \
     "" using 1:3 with linespoints lw 2 title "etcd 3.4 (Put)"
unset logscale x

set output stem."-latency.png"
set title "Latency percentiles per workload (ms, log scale)"
set xlabel ""
set ylabel "ms"
set logscale y
set style data histogram
set style histogram clustered gap 1
set style fill solid 0.8 border -1
set xtics rotate by -30
set key top left
plot stem."-latency.dat" using 2:xtic(1) title "raftmeta p50", \
     "" using 3 title "raftmeta p99", \
     "" using 4 title "raftmeta p99.9", \
     "" using 5 title "etcd p50", \
     "" using 6 title "etcd p99", \
     "" using 7 title "etcd p99.9"
