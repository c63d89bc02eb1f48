// C API: top-k classes with softmax probabilities, without allocating (the order scratch is the
// session's). Same order and probabilities as intvit::top_k in engine/model.cc.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <numeric>

#include "engine/c_api/c_api_internal.h"

namespace intvit::capi {

// The C struct's layout is ABI: int32 index, double probability, label pointer (LP64 layout).
static_assert(sizeof(void*) != 8 || (sizeof(intvit_prediction) == 24 && offsetof(intvit_prediction, probability) == 8 &&
                                     offsetof(intvit_prediction, label) == 16));

void top_k_into(const std::vector<double>& logits, std::vector<int32_t>& order, const std::vector<std::string>& labels,
                intvit_prediction* top, size_t k) {
  const size_t n = logits.size();
  std::iota(order.begin(), order.end(), 0);
  std::partial_sort(order.begin(), order.begin() + k, order.end(), [&](int32_t a, int32_t b) {
    return logits[a] != logits[b] ? logits[a] > logits[b] : a < b;
  });
  const double max_logit = *std::max_element(logits.begin(), logits.end());
  double sum = 0;
  for (size_t i = 0; i < n; ++i) sum += std::exp(logits[i] - max_logit);
  for (size_t i = 0; i < k; ++i) {
    const int32_t c = order[i];
    top[i].class_index = c;
    top[i].probability = std::exp(logits[c] - max_logit) / sum;
    top[i].label = static_cast<size_t>(c) < labels.size() ? labels[c].c_str() : "";
  }
}

void top_k_of_int_logits(intvit_session& s, const int32_t* logits, intvit_prediction* top, size_t k) {
  // The same double products as Session::run, so the result equals intvit_session_run_cropped's.
  for (size_t i = 0; i < s.real_logits.size(); ++i) s.real_logits[i] = s.logit_scale * logits[i];
  top_k_into(s.real_logits, s.order, s.session->model().labels(), top, k);
}

}  // namespace intvit::capi
