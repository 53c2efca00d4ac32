"""sizes.py - sys.getsizeof of the Python objects that bench/objects/sizes.c
measures with rc_sizeof, built the same way (containers grown one item at a
time). Output: one line "NAME BYTES" per object, in the same order."""
import array
import sys


def grown(make, add, n):
    c = make()
    for i in range(n):
        add(c, i)
    return c


def ascii(n):
    return ''.join(chr(ord('a') + i % 26) for i in range(n))


def main():
    objs = [
        ('str-empty', ascii(0)),
        ('str-5', 'hello'),
        ('str-100', ascii(100)),
        ('str-10000', ascii(10000)),
        ('str-nonascii-5', 'h\u00e9llo'),
        ('bytes-empty', bytes(0)),
        ('bytes-3', bytes(3)),
        ('bytes-100', bytes(100)),
        ('bytes-10000', bytes(10000)),
        ('int-0', 0),
        ('int-1000', 1000),
        ('int-2**62', 2 ** 62),
        ('float', 1.5),
        ('tuple-empty', tuple(range(0))),
        ('tuple-2', tuple(range(2))),
        ('tuple-100', tuple(range(100))),
        ('list-empty', grown(list, list.append, 0)),
        ('list-3', grown(list, list.append, 3)),
        ('list-100', grown(list, list.append, 100)),
        ('list-10000', grown(list, list.append, 10000)),
        ('list-1000000', grown(list, list.append, 1000000)),
        ('dict-empty', grown(dict, lambda d, i: d.__setitem__('key%d' % i, i), 0)),
        ('dict-3', grown(dict, lambda d, i: d.__setitem__('key%d' % i, i), 3)),
        ('dict-100', grown(dict, lambda d, i: d.__setitem__('key%d' % i, i), 100)),
        ('dict-10000', grown(dict, lambda d, i: d.__setitem__('key%d' % i, i), 10000)),
        ('set-empty', grown(set, set.add, 0)),
        ('set-3', grown(set, set.add, 3)),
        ('set-100', grown(set, set.add, 100)),
        ('set-10000', grown(set, set.add, 10000)),
        ('array-q-empty', grown(lambda: array.array('q'), array.array.append, 0)),
        ('array-q-100', grown(lambda: array.array('q'), array.array.append, 100)),
        ('array-q-10000', grown(lambda: array.array('q'), array.array.append, 10000)),
        ('array-q-1000000', grown(lambda: array.array('q'), array.array.append, 1000000)),
    ]
    for name, o in objs:
        print(name, sys.getsizeof(o))


if __name__ == '__main__':
    main()
