"""An option followed by one or more values, as the tools' documented commands write them."""

import click


def _is_option(arg):
    """Whether a command-line word starts another option ("-1" and "-.5" are values)."""
    if arg == "--" or not arg.startswith("-") or len(arg) == 1:
        return arg == "--"
    try:
        float(arg)
    except ValueError:
        return True
    return False


class OneOrMore(click.Option):
    """``--window 0 3 5`` (argparse's ``nargs="+"``) as well as ``--window 0 --window 3``:
    the values run until the next option. The option's value is the tuple of them all."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, multiple=True, **kwargs)

    def add_to_parser(self, parser, ctx):
        super().add_to_parser(parser, ctx)
        parsers = {id(o): o for name in self.opts
                   for o in (parser._long_opt.get(name), parser._short_opt.get(name)) if o}
        for option in parsers.values():
            option.process = _taking_all(option.process)


def _taking_all(process):
    def process_all(value, state):
        process(value, state)
        while state.rargs and not _is_option(state.rargs[0]):
            process(state.rargs.pop(0), state)

    return process_all
