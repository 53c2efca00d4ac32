// prog_cxx.cpp - C++ new and delete under librecycle-preload.so: they reach
// malloc and free through libstdc++.
//
//   50 x new int            (4 bytes each)  deleted
//   10 x new char[100]                      deleted with delete[]
//    1 x new Big (sizeof 4096)              kept (reachable through a global)
#include <cstdio>

struct Big {
    char bytes[4096];
};

static Big *volatile keep;

int main() {
    int *ints[50];
    for (int i = 0; i < 50; i++)
        ints[i] = new int(i);
    long sum = 0;
    for (int i = 0; i < 50; i++) {
        sum += *ints[i];
        delete ints[i];
    }
    char *arrays[10];
    for (int i = 0; i < 10; i++)
        arrays[i] = new char[100];
    for (int i = 0; i < 10; i++)
        delete[] arrays[i];
    keep = new Big;
    std::printf("sum %ld\n", sum);
    return 0;
}
