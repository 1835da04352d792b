"""Run an OpenStack console entry point by module path.

Debian's python3-* library packages do not install the service commands
(nova-compute, nova-manage, ...); those come with the service packages this
cloud avoids. Usage: run.py NAME package.module:function [ARGS...]
NAME becomes argv[0], so process lists and oslo's logs show it.
"""
import importlib
import sys


def main() -> int:
    name, target, *args = sys.argv[1:]
    module_name, func_name = target.split(':')
    sys.argv = [name, *args]
    func = getattr(importlib.import_module(module_name), func_name)
    result = func()
    return result if isinstance(result, int) else 0


if __name__ == '__main__':
    sys.exit(main())
