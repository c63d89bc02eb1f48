// A one-line progress bar on stderr for long CLI work (calibration, evaluation). On a terminal it
// redraws in place; in logs it prints every 10 %.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <functional>
#include <string>

namespace intvit::cli {

// A producer that runs out before its total ends with (done, done) (load_calibration_images when
// fewer files decode than asked): the bar keeps its first total and ends "2/3 (ended early)", where it
// jumped to "2/2" after "2/3".
inline std::function<void(int, int)> progress_bar(std::string what) {
  const bool tty = isatty(fileno(stderr));
  return [what = std::move(what), tty, last_decile = -1, first_total = -1](int done, int total) mutable {
    if (first_total < 0) first_total = total;
    const bool ended_early = total < first_total && done == total;
    if (ended_early) total = first_total;
    const int width = 30, filled = total ? done * width / total : width;
    const int decile = total ? done * 10 / total : 10;
    if (!tty && decile == last_decile && done != total && !ended_early) return;
    last_decile = decile;
    std::fprintf(stderr, "%s%-12s [%s%s] %d/%d%s%s", tty ? "\r" : "", what.c_str(), std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), done, total, ended_early ? " (ended early)" : "",
                 (!tty || done == total || ended_early) ? "\n" : "");
    std::fflush(stderr);
  };
}

}  // namespace intvit::cli
