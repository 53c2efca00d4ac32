# pprof.cmake - the pprof export's profile.proto (src/report/profile.proto)
# compiled with protoc-c into recycle_report; included by report.cmake.
include_guard(GLOBAL)
