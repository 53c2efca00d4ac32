/* main.c - the `recycle` command: the subcommand table and the dispatch.
 *
 *   recycle [--help | --version]
 *   recycle help [SUBCOMMAND]
 *   recycle SUBCOMMAND [OPTIONS] [ARGS]
 *
 * Each subcommand parses its own options (cmd_*.c); this file only picks
 * it. A subcommand of DESIGN.md that is not built yet is listed, has its
 * --help, and answers "'plot' is not available yet" with the usage status,
 * so scripts can tell it apart from a failure of one that exists. */
#include "cli/cli.h"

#include <recycle/version.h>

#include <string.h>

/* Built by cmake/tools/cli.cmake when the report layer is (it needs the
 * capture reader). */
#ifdef RC_CLI_HAVE_REPORT
#define REPORT_RUN rcl_cmd_report
#define LINES_RUN rcl_cmd_lines
#define STATS_RUN rcl_cmd_stats
#define DIFF_RUN rcl_cmd_diff
#define FLAMEGRAPH_RUN rcl_cmd_flamegraph
#define PLOT_RUN rcl_cmd_plot
#define EXPORT_RUN rcl_cmd_export
#define HTML_RUN rcl_cmd_html
#else
#define REPORT_RUN NULL
#define LINES_RUN NULL
#define STATS_RUN NULL
#define DIFF_RUN NULL
#define FLAMEGRAPH_RUN NULL
#define PLOT_RUN NULL
#define EXPORT_RUN NULL
#define HTML_RUN NULL
#endif

static const rcl_command commands[] = {
    {"run", "run a program and record its memory use into a capture",
     "run [-o FILE] [--frames N] [--sample BYTES] [--follow-fork] -- PROGRAM [ARGS]",
     "Run PROGRAM with librecycle-preload.so, which records every allocation and\n"
     "free with its stack into a capture file. The program's standard streams\n"
     "pass through; recycle exits with the program's exit status.\n"
     "\n"
     "Options:\n"
     "  -o, --output FILE   write the capture to FILE (default:\n"
     "                      recycle-PROGRAM-PID.rcap in the working directory)\n"
     "      --frames N      record at most N frames of each stack (1 to 128)\n"
     "      --sample BYTES  record a sample: on average one allocation per BYTES\n"
     "                      allocated (suffixes K, M, G); totals are estimated\n"
     "      --follow-fork   record child processes too (one capture each)\n"
     "  -h, --help          show this help and exit\n"
     "\n"
     "Exit status: the program's; 126 or 127 when it cannot be started (as a\n"
     "shell), 128+N when signal N killed it, 1 on an error of recycle's own,\n"
     "2 on a usage error.\n"
     "\n"
     "Environment: RECYCLE_PRELOAD names the preload library to use.\n",
     rcl_cmd_run},
    {"report", "print totals, the top allocation sites, leaks, the peak",
     "report FILE [--top N] [--by function|line|file|stack] [--leaks] [--peak]\n"
     "       [--temporary] [--json]",
     "Analyse a capture: totals (allocations, frees, bytes allocated, peak heap\n"
     "and when, leaked at exit, temporary allocations) and the sites that\n"
     "allocated most. A site is the innermost frame of a stack outside the\n"
     "allocator and the C/C++ run-time.\n"
     "\n"
     "Options:\n"
     "      --top N         show the N heaviest sites (default 10; 0: all)\n"
     "      --by KEY        group sites by function, line (default), file or\n"
     "                      stack (the whole stack from the site outward)\n"
     "      --leaks         the sites of memory not freed at exit, split into\n"
     "                      definitely lost and still reachable\n"
     "      --peak          the sites of memory live at the peak\n"
     "      --temporary     the sites of temporary allocations (freed with no\n"
     "                      other allocation in between)\n"
     "      --json          print the figures as JSON (every site unless --top)\n"
     "  -h, --help          show this help and exit\n"
     "\n"
     "Exit status: 0, 1 if the capture cannot be read or is damaged, 2 on a\n"
     "usage error. A capture cut short (the program was killed while writing)\n"
     "is reported up to where it ends, with a warning.\n",
     REPORT_RUN},
    {"lines", "memory_profiler-style listing of a function's source lines",
     "lines FILE FUNCTION [--source-dir DIR]... [--json]",
     "Show the source of FUNCTION, each line with the bytes allocated there\n"
     "(directly or by the functions it calls), what of that was still live at\n"
     "exit, and how many allocations it made. A stack is charged to the line of\n"
     "the innermost call of FUNCTION on it, once even when FUNCTION recurses.\n"
     "\n"
     "FUNCTION is a name as the symbols give it (a C++ name demangled, with its\n"
     "parameters); a name without parameters, template arguments or namespaces\n"
     "does when it names one function only. Sources are looked for where the\n"
     "debug information says, beside the capture, then under each --source-dir.\n"
     "Without the source, the lines that allocated are listed as file:line;\n"
     "without line information, by address.\n"
     "\n"
     "Options:\n"
     "      --source-dir DIR\n"
     "                      look for source files under DIR too (repeatable)\n"
     "      --json          print the figures as JSON\n"
     "  -h, --help          show this help and exit\n"
     "\n"
     "Exit status: 0, 1 if the capture cannot be read or is damaged or no\n"
     "function (or more than one) answers to FUNCTION, 2 on a usage error.\n",
     LINES_RUN},
    {"flamegraph", "a flame graph of the allocations as a self-contained page",
     "flamegraph FILE [-o OUT.html] [--kind allocated|peak|leaked]",
     "Write a flame graph of the allocations as one self-contained HTML page\n"
     "(no network needed): the call tree from the outermost frame down to each\n"
     "allocation site (the innermost frame outside the allocator and the C/C++\n"
     "run-time), inlined functions included, each box as wide as its bytes.\n"
     "Click a box to zoom into it, the root, \"reset zoom\" or Escape to zoom\n"
     "out; search highlights the functions that match and shows their share;\n"
     "hover shows a box's function, file:line, bytes, allocations and share.\n"
     "Boxes under 0.1% of the total are folded into their parent.\n"
     "\n"
     "Options:\n"
     "  -o, --output OUT    write the page to OUT (default: FILE with .rcap\n"
     "                      replaced by .html; -: standard output)\n"
     "      --kind KIND     what a box weighs: allocated (bytes allocated over\n"
     "                      the run, the default), peak (live at the peak of\n"
     "                      the heap) or leaked (live at exit)\n"
     "  -h, --help          show this help and exit\n"
     "\n"
     "Exit status: 0, 1 if the capture cannot be read or is damaged or the page\n"
     "cannot be written (OUT is then left as it was), 2 on a usage error.\n",
     FLAMEGRAPH_RUN},
    {"plot", "the heap and RSS over time, as SVG (mprof plot)",
     "plot FILE [-o OUT.svg] [--top N]",
     "Draw the heap in use and the resident set size (RSS) over the program's\n"
     "run as an SVG image, as mprof plot does: the peak marked with its bytes\n"
     "and time, and a legend of the allocation sites that held the most bytes\n"
     "at the peak. The title says how the program ended; the figures of a\n"
     "sampled capture are estimates.\n"
     "\n"
     "Options:\n"
     "  -o, --output OUT    write the image to OUT ('-': stdout); by default\n"
     "                      FILE with .rcap replaced by .svg, next to it\n"
     "      --top N         allocation sites in the legend (default 5, at\n"
     "                      most 50)\n"
     "  -h, --help          show this help and exit\n"
     "\n"
     "Exit status: 0, 1 if the capture cannot be read or is damaged or the\n"
     "image cannot be written (what was at OUT is then left as it was), 2 on\n"
     "a usage error.\n",
     PLOT_RUN},
    {"html", "one self-contained page with every report",
     "html FILE [-o OUT.html]",
     "Write one self-contained HTML page (no network needed) with what the\n"
     "other commands show of the capture: the program and how it ended, the\n"
     "totals of `recycle report`, the heap and RSS over time (`recycle\n"
     "plot`), the flame graph (`recycle flamegraph`) of the bytes allocated,\n"
     "live at the peak or leaked, a sortable table of the allocation sites\n"
     "(bytes, allocations, peak, leaked, temporary: the top 100 of each\n"
     "column), and the leaks, definitely lost and still reachable, each site\n"
     "with its callers. The page stays a few MB whatever the capture's size.\n"
     "\n"
     "Options:\n"
     "  -o, --output OUT    write the page to OUT (default: FILE with .rcap\n"
     "                      replaced by .report.html; -: standard output)\n"
     "  -h, --help          show this help and exit\n"
     "\n"
     "Exit status: 0, 1 if the capture cannot be read or is damaged or the page\n"
     "cannot be written (OUT is then left as it was), 2 on a usage error.\n",
     HTML_RUN},
    {"diff", "growth per allocation site between two captures",
     "diff OLD NEW [--by function|line|file|stack]\n"
     "       [--sort bytes|allocations|leaked|peak] [--top N] [--json]",
     "Compare two captures site by site: the same program before and after a\n"
     "change, or a short run and a long one. The totals (allocations, bytes\n"
     "allocated, peak heap, leaked at exit) in OLD, in NEW and their change,\n"
     "then the sites whose figures changed most, each with its change, its\n"
     "figures in OLD and in NEW. A site is matched across the captures by its\n"
     "function, file and line (or what --by keeps of them; its module and\n"
     "offset without symbols); one found in one capture only is new or gone.\n"
     "\n"
     "Options:\n"
     "      --by KEY        group sites by function, line (default), file or\n"
     "                      stack (the whole stack from the site outward)\n"
     "      --sort KEY      order sites by the change of their bytes allocated\n"
     "                      (default), allocations, leaked or peak bytes\n"
     "      --top N         show the N sites that changed most (default 10; 0: all)\n"
     "      --json          print the figures as JSON (every site unless --top)\n"
     "  -h, --help          show this help and exit\n"
     "\n"
     "Exit status: 0, 1 if a capture cannot be read or is damaged, 2 on a\n"
     "usage error.\n",
     DIFF_RUN},
    {"export", "convert a capture for other tools",
     "export FILE --format collapsed|speedscope|massif|pprof|sqlite [-o OUT]\n"
     "       [--kind allocated|peak|leaked] [--unit bytes|allocations]",
     "Write the capture in another tool's format:\n"
     "  collapsed   folded stacks for flamegraph.pl, inferno or speedscope: one\n"
     "              line per stack, frames outermost first joined by ';', then\n"
     "              a space and the value (';' in a name is written ':', a space\n"
     "              or control character '_')\n"
     "  speedscope  speedscope's JSON: one profile each for the bytes allocated,\n"
     "              live at the peak and leaked\n"
     "  massif      Valgrind massif's massif.out, for ms_print and\n"
     "              massif-visualizer: the heap over time (at most 50\n"
     "              snapshots) and the tree of the sites live at the peak\n"
     "  pprof       a gzip-compressed profile.proto for `go tool pprof`,\n"
     "              Pyroscope or Parca: objects and bytes allocated over the\n"
     "              run, and in use (live) at the end\n"
     "  sqlite      a SQLite database (needs -o): the capture's frames, stacks,\n"
     "              sites and, for a full capture, every allocation; its\n"
     "              tables are described in docs/sqlite.md\n"
     "A stack ends at the allocation's site (the frames inside the allocator\n"
     "are left out); the values of a kind add up to the totals of `recycle\n"
     "report`.\n"
     "\n"
     "Options:\n"
     "  -f, --format FMT    collapsed, speedscope, massif, pprof or sqlite\n"
     "                      (required)\n"
     "  -o, --output OUT    write to OUT (replaced only once it is complete)\n"
     "                      instead of the standard output ('-')\n"
     "      --kind KIND     collapsed: bytes allocated over the run (default),\n"
     "                      live at the peak, or leaked at the end\n"
     "      --unit UNIT     collapsed and speedscope: bytes (default) or\n"
     "                      allocations\n"
     "  -h, --help          show this help and exit\n"
     "\n"
     "Exit status: 0, 1 if the capture cannot be read or is damaged or the\n"
     "output cannot be written, 2 on a usage error.\n",
     EXPORT_RUN},
    {"stats", "totals, a histogram of sizes, rates over time",
     "stats FILE [--json]",
     "Sum up a capture: the totals (as `recycle report` gives them), then\n"
     "  - the allocations by requested size, in power-of-two buckets (0, 1, 2,\n"
     "    3-4, 5-8, ... bytes; a realloc counts at its new size);\n"
     "  - the run in at most 40 intervals of equal width (whole ticks of the\n"
     "    capture's clock): allocations, bytes allocated and frees per second,\n"
     "    the heap and the RSS at the end of each interval;\n"
     "  - per thread (number, OS id, name): allocations, frees, bytes allocated\n"
     "    and freed, and what it allocated that was still live at the end.\n"
     "A sampled capture gives estimates.\n"
     "\n"
     "Options:\n"
     "      --json          print the figures as JSON\n"
     "  -h, --help          show this help and exit\n"
     "\n"
     "Exit status: 0, 1 if the capture cannot be read or is damaged, 2 on a\n"
     "usage error. A capture cut short (the program was killed while writing)\n"
     "is summed up to where it ends, with a warning.\n",
     STATS_RUN},
};

#define NCOMMANDS (sizeof commands / sizeof commands[0])

static const rcl_command top = {
    "recycle", NULL,
    "[--help | --version]\nSUBCOMMAND [OPTIONS] [ARGS]",
    NULL, NULL,
};

static const rcl_command *find_command(const char *name) {
    for (size_t i = 0; i < NCOMMANDS; i++)
        if (strcmp(commands[i].name, name) == 0)
            return &commands[i];
    return NULL;
}

static void print_top_help(void) {
    rcl_print_usage(&top, stdout);
    fputs("\nMemory profiling for unmodified C and C++ programs: record with\n"
          "`recycle run`, then look with `recycle report`.\n\nSubcommands:\n",
          stdout);
    for (size_t i = 0; i < NCOMMANDS; i++)
        printf("  %-11s %s%s\n", commands[i].name, commands[i].summary,
               commands[i].run ? "" : " (not available yet)");
    fputs("\n'recycle SUBCOMMAND --help' shows a subcommand's options.\n"
          "Exit status: 0 on success, 1 on an error, 2 on a usage error; `run`\n"
          "returns the program's own status.\n",
          stdout);
}

static void print_version(void) {
    printf("recycle %s\n"
           "Copyright (c) 2026 the recycle developers.\n"
           "License MIT: this is free software; you may change and share it.\n"
           "There is NO WARRANTY, to the extent permitted by law.\n",
           RC_VERSION_STRING);
}

/* Whether argv[1..] asks for help (-h or --help before any "--"). */
static bool wants_help(int argc, char **argv) {
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0)
            return false;
        if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0)
            return true;
    }
    return false;
}

static int dispatch(int argc, char **argv) {
    if (argc < 2) {
        rcl_usage_error(&top, "no subcommand given");
        return RCL_EXIT_USAGE;
    }
    const char *name = argv[1];
    if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
        if (argc > 2) {
            rcl_usage_error(&top, "'%s' takes no arguments", name);
            return RCL_EXIT_USAGE;
        }
        print_top_help();
        return RCL_EXIT_OK;
    }
    if (strcmp(name, "--version") == 0) {
        if (argc > 2) {
            rcl_usage_error(&top, "'--version' takes no arguments");
            return RCL_EXIT_USAGE;
        }
        print_version();
        return RCL_EXIT_OK;
    }
    if (strcmp(name, "help") == 0) {
        if (argc == 2) {
            print_top_help();
            return RCL_EXIT_OK;
        }
        const rcl_command *c = argc == 3 ? find_command(argv[2]) : NULL;
        if (!c) {
            if (argc == 3)
                rcl_usage_error(&top, "'%s' is not a recycle subcommand", argv[2]);
            else
                rcl_usage_error(&top, "'help' takes one subcommand at most");
            return RCL_EXIT_USAGE;
        }
        rcl_print_help(c);
        return RCL_EXIT_OK;
    }
    if (name[0] == '-') {
        rcl_usage_error(&top, "unknown option '%s'", name);
        return RCL_EXIT_USAGE;
    }
    const rcl_command *c = find_command(name);
    if (!c) {
        rcl_usage_error(&top, "'%s' is not a recycle subcommand", name);
        return RCL_EXIT_USAGE;
    }
    if (!c->run) {
        if (wants_help(argc - 1, argv + 1)) {
            rcl_print_help(c);
            printf("\n'recycle %s' is not available yet.\n", c->name);
            return RCL_EXIT_OK;
        }
        rcl_error(NULL, "'%s' is not available yet", c->name);
        return RCL_EXIT_USAGE;
    }
    return c->run(c, argc - 1, argv + 1);
}

int main(int argc, char **argv) {
    return rcl_finish_stdout(dispatch(argc, argv));
}
