#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0
"""Print "pass|fail|skip PREFIXsuite.case" per test case of a kunit.py --json
file.  A skip is neither: the runner lists it, with the reason in the log."""
import json
import sys


def walk(group, prefix):
    for case in group.get('test_cases', []):
        status = case.get('status')
        word = {'PASS': 'pass ', 'SKIP': 'skip '}.get(status, 'fail ')
        print(word + prefix + case['name'])
    for sub in group.get('sub_groups', []):
        walk(sub, prefix + sub['name'] + '.')


def main():
    try:
        with open(sys.argv[1]) as f:
            doc = json.load(f)
    except (OSError, ValueError) as e:
        print(f'kunit-results: {e}', file=sys.stderr)
        return 1
    walk(doc, sys.argv[2])
    return 0


if __name__ == '__main__':
    sys.exit(main())
