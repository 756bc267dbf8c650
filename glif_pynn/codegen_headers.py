"""The C++ headers that the edits of :mod:`glif_pynn.codegen_patches` include, written beside the generated code."""

PORT_BUFFERS_HEADER = "glif_pynn_port_buffers.h"
SHARED_INTERNALS_HEADER = "glif_pynn_shared_internals.h"

#: glif_pynn::PortBuffers: the port buffers of a node in one allocation, the ports of a time slot side by side.
PORT_BUFFERS_CODE = """\
// Written by glif_pynn/codegen_patches.py: port buffers stored inside the node instead of a std::vector.
#ifndef GLIF_PYNN_PORT_BUFFERS_H
#define GLIF_PYNN_PORT_BUFFERS_H

#include <array>
#include <cstddef>
#include <vector>

#include "kernel_manager.h"
#include "ring_buffer.h"

namespace glif_pynn
{
/** A fixed number of per-port buffers, stored inline; offers the part of std::vector's interface
 *  that NESTML's generated code uses (operator[], size, clear, resize). */
template < class T, std::size_t N >
class PortBuffers
{
public:
  T& operator[]( std::size_t i ) { return items_[ i ]; }
  const T& operator[]( std::size_t i ) const { return items_[ i ]; }
  static constexpr std::size_t size() { return N; }
  /** Like std::vector::clear() followed by resize(N): every buffer is default-constructed anew. */
  void clear() { for ( T& item : items_ ) { item = T(); } }
  void resize( std::size_t ) {}

private:
  std::array< T, N > items_{};
};

/** N nest::RingBuffers in one allocation, the ports of a time slot side by side (one cache line
 *  for every port of a step, instead of one heap block per port). operator[] gives a port with
 *  nest::RingBuffer's add_value and get_value, indexing and clearing slots exactly as it does. */
template < std::size_t N >
class PortBuffers< nest::RingBuffer, N >
{
public:
  class Port
  {
  public:
    Port( std::array< double, N >* slots, std::size_t port ) : slots_( slots ), port_( port ) {}
    void add_value( const long offs, const double v ) { slots_[ index( offs ) ][ port_ ] += v; }
    /** The slot's value; the slot is cleared, as by nest::RingBuffer::get_value. */
    double get_value( const long offs )
    {
      double& slot = slots_[ index( offs ) ][ port_ ];
      const double value = slot;
      slot = 0.0;
      return value;
    }

  private:
    static std::size_t index( const long offs ) { return nest::kernel().event_delivery_manager.get_modulo( offs ); }
    std::array< double, N >* slots_;
    std::size_t port_;
  };

  PortBuffers() : slots_( slot_count(), std::array< double, N >{} ) {}
  Port operator[]( std::size_t i ) { return Port( slots_.data(), i ); }
  static constexpr std::size_t size() { return N; }
  /** Like N nest::RingBuffers constructed anew: min_delay + max_delay slots of zeros. */
  void clear() { slots_.assign( slot_count(), std::array< double, N >{} ); }
  void resize( std::size_t ) {}

private:
  static std::size_t slot_count()
  {
    return nest::kernel().connection_manager.get_min_delay() + nest::kernel().connection_manager.get_max_delay();
  }
  std::vector< std::array< double, N > > slots_;
};
}

#endif
"""

#: glif_pynn::shared_internals: one read-only copy of equal internals for the nodes of a model.
SHARED_INTERNALS_CODE = """\
// Written by glif_pynn/codegen_patches.py: one read-only copy of equal internals for the nodes of a model.
#ifndef GLIF_PYNN_SHARED_INTERNALS_H
#define GLIF_PYNN_SHARED_INTERNALS_H

#include <cstring>
#include <memory>
#include <mutex>
#include <string>
#include <unordered_map>

namespace glif_pynn
{
/** Whether two scalar fields hold the same bytes. */
template < class T >
bool same_bytes( const T& a, const T& b )
{
  return std::memcmp( &a, &b, sizeof( T ) ) == 0;
}

/** Appends the bytes of one scalar field to a key (field by field, so that padding never enters it). */
template < class T >
void append_bytes( std::string& key, const T& value )
{
  key.append( reinterpret_cast< const char* >( &value ), sizeof( T ) );
}

/** The stored copy of the internals whose bytes are ``key``, made from ``internals`` on first use. Copies
 *  live as long as the process (one per distinct parameter set) and never change, so a node may keep the
 *  pointer; the table is locked, as nodes are calibrated on several threads at once. */
template < class Internals >
const Internals* shared_internals( const Internals& internals, const std::string& key )
{
  static std::mutex mutex;
  static std::unordered_map< std::string, std::unique_ptr< const Internals > > table;
  std::lock_guard< std::mutex > lock( mutex );
  std::unique_ptr< const Internals >& slot = table[ key ];
  if ( not slot )
  {
    slot.reset( new Internals( internals ) );
  }
  return slot.get();
}
}

#endif
"""
