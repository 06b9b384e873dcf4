public import GRPCCore
public import NIOCore

/// The bytes type of banjie's transport: a `ByteBuffer`, so messages move from the socket to
/// the deserializer without a copy.
public struct BanjieBytes: GRPCContiguousBytes, Hashable, Sendable {
  public var buffer: ByteBuffer

  @inlinable
  public init(_ buffer: ByteBuffer) { self.buffer = buffer }

  @inlinable
  public init(repeating byte: UInt8, count: Int) { self.buffer = ByteBuffer(repeating: byte, count: count) }

  @inlinable
  public init(_ sequence: some Sequence<UInt8>) { self.buffer = ByteBuffer(bytes: sequence) }

  @inlinable
  public var count: Int { self.buffer.readableBytes }

  @inlinable
  public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) throws -> R) rethrows -> R {
    try self.buffer.withUnsafeReadableBytes(body)
  }

  @inlinable
  public mutating func withUnsafeMutableBytes<R>(_ body: (UnsafeMutableRawBufferPointer) throws -> R) rethrows -> R {
    try self.buffer.withUnsafeMutableReadableBytes(body)
  }
}
