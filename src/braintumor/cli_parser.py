"""The command line's parser: argparse's, with usage errors that say what was meant.

Why its own module: the checks on what the arguments name (:mod:`braintumor.cli_checks`) and how the parser words a
word it does not take are separate ideas; :mod:`braintumor.cli` builds its commands on :class:`Parser`.
"""

from __future__ import annotations

import argparse
import difflib
import os
import sys
from collections.abc import Sequence
from typing import NoReturn

from .wording import printable


class Parser(argparse.ArgumentParser):
    """argparse's parser whose usage errors say how to pass a file named like an option: ``predict -scan.png`` (a
    hospital export's name) said 'the following arguments are required: paths' of the path it was given."""

    def parse_known_args(self, args: Sequence[str] | None = None, namespace: argparse.Namespace | None = None,
                         ) -> tuple[argparse.Namespace, list[str]]:
        self.given = self._values_joined(list(sys.argv[1:] if args is None else args))  # a command's gets the rest
        return super().parse_known_args(self.given, namespace)

    def _values_joined(self, words: list[str]) -> list[str]:
        """``words`` with each value that reads as a negative number joined to the option before it that takes one
        value (``--request-timeout -inf`` as ``--request-timeout=-inf``), up to a ``--``. argparse takes ``-1`` and
        ``-.5`` as values but ``-inf``, ``-nan``, ``-1e5`` as options: the user was told "expected one argument", not
        the option's own message ("must be a finite number")."""
        joined: list[str] = []
        for at, word in enumerate(words):
            if word == "--":
                return joined + words[at:]
            if joined and _negative_number(word) and word not in self._option_string_actions \
                    and self._one_value_option(joined[-1]):
                joined[-1] += "=" + word
            else:
                joined.append(word)
        return joined

    def _one_value_option(self, word: str) -> bool:
        """Whether ``word`` names (or, unambiguously, abbreviates) one of this parser's options that takes exactly
        one value."""
        if not word.startswith("-") or "=" in word:
            return False
        action = self._option_string_actions.get(word)
        if action is None and word.startswith("--") and self.allow_abbrev:
            found = {a for name, a in self._option_string_actions.items() if name.startswith(word)}
            action = found.pop() if len(found) == 1 else None
        return action is not None and action.nargs is None

    def parse_args(self, args: Sequence[str] | None = None,  # type: ignore[override]
                   namespace: argparse.Namespace | None = None) -> argparse.Namespace:
        """As argparse's, but an unknown word is told by the command it was given to: ``predict x.jpg --fromat csv``
        was ``braintumor: error: unrecognized arguments`` under the list of commands, with no word of predict's."""
        parsed, extras = self.parse_known_args(args, namespace)
        if not extras:
            return parsed
        parser: argparse.ArgumentParser = self
        while chosen := [a.choices[getattr(parsed, a.dest)] for a in parser._actions
                         if isinstance(a, argparse._SubParsersAction) and getattr(parsed, a.dest, None)]:
            parser = chosen[0]
        options = [o for a in parser._actions for o in a.option_strings if o.startswith("--")]
        self._before_command(extras, parser, options)
        typed = extras[:extras.index("--")] if "--" in extras else extras  # a word after -- is meant as no option
        hints = [f"{word} is not an option here: did you mean {near[0]}?" for word in
                 (w.partition("=")[0] for w in typed if w.startswith("--"))
                 if (near := difflib.get_close_matches(word, options, 1))]
        folder = [w for w in extras if "--data" in options and os.path.isdir(w)][:1]
        hints += [f"a dataset folder is named after --data: --data {w}" for w in folder]
        parser.error(f"unrecognized arguments: {' '.join(extras)}" + "".join(f" ({h})" for h in hints))

    def _before_command(self, extras: list[str], command: argparse.ArgumentParser, options: list[str]) -> None:
        """Exit with a usage error under the usage of the parser an unknown word was given to, where it came before
        the command (``braintumor --fromat=json predict x.png``, ``braintumor data --quiet check``), with the option
        of ``command`` it may have meant: it was told under the command's usage, "not an option here" of a word
        typed before it."""
        parser: argparse.ArgumentParser = self
        words = self.given[:self.given.index("--")] if "--" in self.given else self.given
        while (commands := _commands(parser)) and (at := next((i for i, w in enumerate(words)
                                                                 if w in commands.choices), -1)) >= 0:
            if early := [w for w in words[:at] if w in extras]:
                own = " and ".join(o for a in parser._actions for o in a.option_strings[-1:])
                hints = [_meant(w.partition("=")[0], command, options) for w in early if w.startswith("-")]
                parser.error(f"unrecognized arguments: {' '.join(early)} (before the command {words[at]}, where "
                             f"{parser.prog} takes only {own}: options go after the command"
                             + "".join(f"; {h}" for h in hints if h) + ")")
            parser, words = commands.choices[words[at]], words[at + 1:]

    def error(self, message: str) -> NoReturn:
        given = getattr(self, "given", [])
        if (commands := _commands(self)) is not None and "invalid choice" in message:
            message += _value_taken_for_command(self, commands, given, message)
        named = [a for a in given[:given.index("--") if "--" in given else None]
                 if a.startswith("-") and a != "-" and os.path.lexists(a)]
        # escaped (wording.printable): the words it quotes are the user's, a file name's escape sequence among them
        super().error(printable(message + "".join(f" ({a} is a file here, read as an option: name it ./{a}, or put "
                                                  "-- before it)" for a in named)))


def _negative_number(word: str) -> bool:
    """Whether ``word`` reads as a negative number: ``-1``, ``-0.5``, ``-1e5``, ``-1_000``, ``-0x1``, ``-inf``,
    ``-nan``."""
    if not word.startswith("-") or word.startswith("--"):
        return False
    for read in (float, lambda text: int(text, 0)):
        try:
            read(word)
            return True
        except ValueError:
            pass
    return False


def _commands(parser: argparse.ArgumentParser) -> argparse._SubParsersAction | None:
    """The commands ``parser`` chooses among (``braintumor``'s, ``data``'s), or None: it takes none."""
    return next((a for a in parser._actions if isinstance(a, argparse._SubParsersAction)), None)


def _meant(word: str, command: argparse.ArgumentParser, options: Sequence[str]) -> str:
    """The option of ``command`` an option ``word`` typed before it is, or may be a typo of ("" for none)."""
    if word in options:
        return f"{word} is {command.prog}'s: put it after {command.prog.rpartition(' ')[2]}"
    near = difflib.get_close_matches(word, options, 1)
    return f"did you mean {command.prog} {near[0]}?" if near else ""


def _value_taken_for_command(parser: argparse.ArgumentParser, commands: argparse._SubParsersAction,
                             given: Sequence[str], message: str) -> str:
    """Why a word was no command, where an unknown option before it took no value and left it to be read as the
    command: ``braintumor --fromat json predict x.png`` said only "invalid choice: 'json'". Only where that word is
    the one ``message`` refuses: ``braintumor -- predict`` refused '--', and was told predict was read as the
    command."""
    own = {o for a in parser._actions for o in a.option_strings}
    at = next((i for i, w in enumerate(given) if not w.startswith("-")), None)
    if not at or not given[at - 1].startswith("--") or given[at - 1] in own or "=" in given[at - 1] \
            or f"invalid choice: {given[at]!r}" not in message:
        return ""
    option, value = given[at - 1], given[at]
    later = next((w for w in given[at + 1:] if w in commands.choices), None)
    if later is None:
        return (f" ({option} is no option of {parser.prog}, so {value} was read as the command: options go after the "
                "command)")
    sub = commands.choices[later]
    meant = difflib.get_close_matches(option, [o for a in sub._actions for o in a.option_strings], 1) or [option]
    return (f" ({option} is no option of {parser.prog}, so {value} was read as the command: options go after the "
            f"command, as in {sub.prog} {meant[0]} {value})")


def show_defaults(parser: argparse.ArgumentParser) -> argparse.ArgumentParser:
    """Every option's default in its ``--help`` where the help text does not already say it: ``serve --help`` showed
    ``--port PORT  TCP port to listen on``, and the 5000 (like predict's batch of 32) was in the README only."""
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for sub in action.choices.values():
                show_defaults(sub)
        elif action.option_strings and action.nargs != 0 and action.help and "default" not in action.help \
                and action.default not in (None, "", argparse.SUPPRESS):
            action.help += f" (default {action.default})".replace("%", "%%")
    return parser
