#!/usr/bin/env python3
"""How each query class's time and each engine's bytes per row grow with the table.

    make bench-growth                                         # 1 M, 10 M and 100 M ticks
    make bench-growth GROWTH_BENCH_ARGS="--sizes 1000000,10000000"

Runs classes.py (every query class on Strata in memory and over its HDB, DuckDB in memory and
over its own Delta table, ClickHouse's MergeTree, answers checked equal) once per size, one size
after the other in this process, printing each size's table as classes.py does. Then, per class,
the medians at each size and how much they grow per tenfold rows,
(t_largest / t_smallest) ** (1 / decades): 10x is linear, 1x constant. Then the bytes per row
each engine keeps, at each size. At 100 M rows the run needs about 16 GiB of memory (Python's
copy of the table and every engine's) and half an hour on 2 cores.
"""
import math
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import classes  # noqa: E402


def growth(times, sizes):
    decades = math.log10(sizes[-1] / sizes[0])
    return (times[-1] / times[0]) ** (1 / decades) if decades > 0 and times[0] > 0 else float('nan')


def main():
    ap = classes.parser()
    ap.add_argument('--sizes', default='1000000,10000000,100000000',
                    help='comma-separated row counts, smallest first')
    args = ap.parse_args()
    sizes = [int(s) for s in args.sizes.split(',')]
    runs = []
    for n in sizes:
        args.rows = n
        runs.append(classes.run(args))
        classes.report(args, *runs[-1])

    label = lambda n: '%dM' % (n // 10**6) if n >= 10**6 else '%dk' % (n // 1000)  # noqa: E731
    heads = ' | '.join(label(n) for n in sizes)
    align = '|'.join(['---:'] * len(sizes))
    print()
    print('Sizes: %s rows, symbols: %d, threads: %d, machine: %d cores, median of %d (ms)'
          % (', '.join(map(str, sizes)), args.symbols, args.threads, os.cpu_count(), args.repeat))
    for tier, index, engines in (('in memory', 1, ('Strata', 'DuckDB', 'ClickHouse')),
                                 ('HDB', 2, ('Strata', 'DuckDB own Delta', 'ClickHouse'))):
        print()
        print(tier + ':')
        print()
        print('| class | %s |' % ' | '.join(' | '.join('%s %s' % (e, label(n)) for n in sizes) + ' | %s per 10x' % e
                                           for e in engines))
        print('|---|%s|' % '|'.join(['%s|---:' % align] * len(engines)))
        for c, (name, *_rest) in enumerate(runs[0][0]):
            cells = []
            for e in engines:
                t = [run[0][c][index][e] for run in runs]
                cells += ['%.1f' % (x * 1e3) for x in t] + ['%.1fx' % growth(t, sizes)]
            print('| %s | %s |' % (name, ' | '.join(cells)))
    print()
    print('| bytes per row | %s |' % heads)
    print('|---|%s|' % align)
    for what in runs[0][1]:
        print('| %s | %s |' % (what, ' | '.join('%.1f' % run[1][what] for run in runs)))


if __name__ == '__main__':
    sys.exit(main())
