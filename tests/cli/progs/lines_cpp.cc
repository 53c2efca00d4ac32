// lines_cpp: C++ names for `recycle lines` (built by test_lines.sh when a
// C++ compiler is there; no iostream, so libstdc++ allocates nothing on
// the program's behalf but its start-up pool).
//
//   shapes::area(int), shapes::area(double)   overloads: "area" is ambiguous
//   shapes::Box<int>::make(int)               "make" names it alone
#include <cstdlib>

namespace shapes {

template <typename T> struct Box {
    __attribute__((noinline)) static void *make(T n) {
        return std::malloc(sizeof(T) * static_cast<std::size_t>(n));
    }
};

__attribute__((noinline)) void *area(int n) {
    return std::malloc(static_cast<std::size_t>(n));
}

__attribute__((noinline)) void *area(double d) {
    return std::malloc(static_cast<std::size_t>(d));
}

}  // namespace shapes

static void *volatile sink;

int main() {
    sink = shapes::area(100);
    std::free(sink);
    sink = shapes::area(250.0);
    std::free(sink);
    sink = shapes::Box<int>::make(5);
    std::free(sink);
    return 0;
}
