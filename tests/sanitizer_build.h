// INTVIT_TEST_SANITIZER is 1 in ASan/TSan builds (GCC defines __SANITIZE_*, clang has __has_feature),
// else 0: a macro, for tests that need it in #if (declarations the sanitizer runtime provides);
// test::kSanitizerBuild (test_support.h) is the same fact as a constant.
#pragma once

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define INTVIT_TEST_SANITIZER 1
#elif defined(__has_feature)
#if __has_feature(address_sanitizer) || __has_feature(thread_sanitizer)
#define INTVIT_TEST_SANITIZER 1
#endif
#endif
#ifndef INTVIT_TEST_SANITIZER
#define INTVIT_TEST_SANITIZER 0
#endif
