"""The daily task, one module per engine: stream the daily bars of D<N>, keep SMA(20) of the
daily close per symbol, count crosses (the side of close vs SMA flips between consecutive daily
bars, both with a full SMA). Each prints one JSON line: bars, crosses, seconds."""
