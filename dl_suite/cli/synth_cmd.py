"""`dl-suite synth timelapse OUT [--frames N --size S --cells N --snr X --seed N]`."""

from dl_suite.cli.common import say


def add_parser(subparsers):
    parser = subparsers.add_parser("synth", help="write synthetic data sets (no download needed)")
    kinds = parser.add_subparsers(dest="kind", metavar="KIND")
    video = kinds.add_parser(
        "timelapse",
        help="a Cell Tracking Challenge folder of moving, growing, dividing fluorescent nuclei",
    )
    video.add_argument("output", help="data-set folder to create (01/, 01_GT/SEG, 01_GT/TRA)")
    video.add_argument("--frames", type=int, default=30, help="number of frames (default 30)")
    video.add_argument("--size", type=int, default=64, help="frame height and width in px (default 64)")
    video.add_argument("--cells", type=int, default=6, help="nuclei in the first frame (default 6)")
    video.add_argument("--snr", type=float, default=5.0,
                       help="mean foreground signal / noise std (default 5)")
    video.add_argument("--seed", type=int, default=0, help="random seed (default 0)")
    video.add_argument("--sequence", default="01", help="sequence name (default 01)")
    video.set_defaults(run=run_timelapse)
    parser.set_defaults(run=lambda args: parser.print_help() or 2)


def run_timelapse(args):
    from pathlib import Path

    from dl_suite.data.synthetic_timelapse import measure_snr, synthetic_timelapse
    from dl_suite.errors import UserError
    from dl_suite.io.ctc import write_ctc_dataset

    out = Path(args.output)
    taken = [out / args.sequence, out / f"{args.sequence}_GT"]
    if any(p.exists() for p in taken):
        raise UserError(f"'{out}' already holds sequence {args.sequence}; choose a new folder or "
                        "another --sequence (existing data are never overwritten).")
    try:
        data = synthetic_timelapse(args.frames, args.size, args.cells, args.snr, args.seed)
    except ValueError as exc:
        raise UserError(str(exc)) from exc
    write_ctc_dataset(out, data.frames, seg=data.labels, tra=data.labels, tracks=data.tracks,
                      sequence=args.sequence)
    say(f"Wrote {len(data.frames)} frames of {args.size}x{args.size} px to {out / args.sequence}")
    say(f"  {len(data.tracks)} tracks, {len(data.divisions())} divisions, "
        f"SNR {measure_snr(data.frames, data.labels):.2f} measured ({args.snr:g} requested)")
    return 0
