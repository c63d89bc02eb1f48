// Which encoded format a byte buffer holds, its declared size, and whether all the data a decoder
// will read is present. stb_image (PNG, BMP, GIF, PGM/PPM) rejects truncated PNG, but pads truncated
// BMP, PGM/PPM and GIF data with zeros and reports success; these checks close that gap from the
// container structure alone. They also refuse the PNG structures stb_image 2.27 mishandles (found
// by fuzzing; see find_truncation), so that stb_image only ever sees inputs it handles safely.
// JPEG decodes with libjpeg-turbo (models/jpeg_decode.h), which validates its own structures and
// stops on any warning: only its frame size is read here, to refuse huge images before decoding.
#pragma once

#include <cstdint>
#include <span>
#include <string>

namespace intvit {

enum class ImageFormat { kUnknown, kJpeg, kPng, kBmp, kGif, kPnm };

// By signature: JPEG FF D8 FF, PNG 89 'PNG' 0D 0A 1A 0A, BMP "BM", GIF "GIF87a"/"GIF89a",
// binary PGM/PPM "P5"/"P6". Other formats stb_image knows (TGA, PSD, HDR, PIC) are not accepted:
// TGA has no signature, so arbitrary bytes could otherwise decode as an image.
ImageFormat sniff_image_format(std::span<const uint8_t> bytes);

// Binary PGM/PPM header as stb_image parses it (whitespace and # comments between fields, one
// whitespace byte after maxval, then the samples; 2 bytes big-endian per sample if maxval > 255).
struct PnmHeader {
  int width = 0, height = 0, channels = 0, maxval = 0;
  size_t data_offset = 0;
};

// Parses bytes known to start with "P5"/"P6". Returns an empty string on success, else the reason.
std::string parse_pnm_header(std::span<const uint8_t> bytes, PnmHeader* header);

// Width and height as the header declares them (before any decoder runs, so that a huge
// declared size can be refused without allocating). Returns an empty string on success, else the
// reason the header is unreadable. JPEG: the first SOFn segment; PNG: IHDR; BMP: |width|,
// |height|; GIF: the logical screen; PGM/PPM: the header fields.
std::string read_declared_size(ImageFormat format, std::span<const uint8_t> bytes, int64_t* width,
                               int64_t* height);

// Empty when every byte the decoder needs for the (first) image is present and the container is
// safe to hand to stb_image, else the reason ("truncated BMP pixel data", ...). Any non-empty
// reason means a corrupt file. Beyond truncation of BMP, PGM/PPM and GIF data:
//  - PNG: a chunk before IEND running past the end of the buffer ("truncated PNG chunk");
//    stb_image would fail too, but only after allocating the chunk's declared length (up to 4 GiB).
//  - JPEG: nothing (libjpeg-turbo refuses bad Huffman tables, undefined ones and truncation itself;
//    tests/corpus/image holds the cases stb_image 2.27 needed checked here before).
std::string find_truncation(ImageFormat format, std::span<const uint8_t> bytes);

}  // namespace intvit
