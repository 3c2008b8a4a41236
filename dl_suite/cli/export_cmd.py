"""`dl-suite export RUN --format keras|savedmodel|bioimageio [--out PATH]`."""

from dl_suite.cli.common import say

FORMATS = ("keras", "savedmodel", "bioimageio")


def add_parser(subparsers):
    parser = subparsers.add_parser(
        "export", help="export a finished run as .keras, TensorFlow SavedModel or bioimage.io package")
    parser.add_argument("run_dir", metavar="RUN", help="the run folder (train.model_dir/run-NNN)")
    parser.add_argument("--format", dest="fmt", choices=FORMATS, default="bioimageio",
                        help="what to write (default: bioimageio)")
    parser.add_argument("--out", default=None, help="target path (default: RUN/export/<run><suffix>)")
    parser.add_argument("--author", default=None, help="bioimage.io: author name")
    parser.add_argument("--github-user", default=None,
                        help="bioimage.io: the author's GitHub user, listed as maintainer")
    parser.add_argument("--test", action="store_true",
                        help="bioimage.io: also run bioimageio.core's test_model on the package")
    parser.set_defaults(run=run)


def run(args):
    from dl_suite.workflows.export import export

    authors = None
    if args.author or args.github_user:
        author = {"name": args.author or args.github_user}
        if args.github_user:
            author["github_user"] = args.github_user
        authors = [author]
    result = export(args.run_dir, args.fmt, args.out, authors=authors, test=args.test)
    say(f"Exported {args.fmt}: {result['path']}")
    if args.fmt == "bioimageio":
        say(f"bioimage.io format validation: {result['status']}, {len(result['warnings'])} warning(s).")
        for warning in result["warnings"]:
            say(f"  warning: {warning}")
        if not args.github_user:
            say("  (pass --github-user to name a maintainer; without one bioimage.io warns)")
        if result["test"] is not None:
            say(result["test"])
            return 0 if result["test_status"] == "passed" else 1
    return 0
