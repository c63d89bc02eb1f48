// A one-line progress bar on stderr for long CLI work (calibration, evaluation). On a terminal it
// redraws in place; in logs it prints every 10 %.
#pragma once

#include <unistd.h>

#include <cstdio>
#include <functional>
#include <string>

namespace intvit::cli {

inline std::function<void(int, int)> progress_bar(std::string what) {
  const bool tty = isatty(fileno(stderr));
  return [what = std::move(what), tty, last_decile = -1](int done, int total) mutable {
    const int width = 30, filled = total ? done * width / total : width;
    const int decile = total ? done * 10 / total : 10;
    if (!tty && decile == last_decile && done != total) return;
    last_decile = decile;
    std::fprintf(stderr, "%s%-12s [%s%s] %d/%d%s", tty ? "\r" : "", what.c_str(), std::string(filled, '#').c_str(),
                 std::string(width - filled, '.').c_str(), done, total, (!tty || done == total) ? "\n" : "");
    std::fflush(stderr);
  };
}

}  // namespace intvit::cli
