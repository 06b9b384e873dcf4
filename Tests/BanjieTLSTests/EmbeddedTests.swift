import NIOCore
import NIOEmbedded
import Testing

@testable import BanjieTLS

/// Two handlers wired back to back in memory: every byte and every timer under the test's control.
@Suite("OpenSSLHandler in EmbeddedChannels")
struct EmbeddedTests {
  private struct Pair {
    let client: EmbeddedChannel
    let server: EmbeddedChannel
  }

  private func makePair(_ pki: TestPKI, server serverConfiguration: TLSConfiguration? = nil) throws -> Pair {
    let server = EmbeddedChannel(
      handler: try OpenSSLHandler(context: TLSContext(configuration: serverConfiguration ?? pki.serverConfiguration())))
    let client = EmbeddedChannel(
      handler: try OpenSSLHandler(context: TLSContext(configuration: pki.clientConfiguration()), serverHostname: "localhost")
    )
    let address = try SocketAddress(ipAddress: "127.0.0.1", port: 4433)
    try server.connect(to: address).wait()
    try client.connect(to: address).wait()
    return Pair(client: client, server: server)
  }

  /// Moves ciphertext both ways until both sides are quiet; returns how many buffers each side sent.
  @discardableResult
  private func shuttle(_ pair: Pair) throws -> (fromClient: Int, fromServer: Int) {
    var counts = (fromClient: 0, fromServer: 0)
    var moved = true
    while moved {
      moved = false
      while let bytes = try pair.client.readOutbound(as: ByteBuffer.self) {
        counts.fromClient += 1
        try pair.server.writeInbound(bytes)
        moved = true
      }
      while let bytes = try pair.server.readOutbound(as: ByteBuffer.self) {
        counts.fromServer += 1
        try pair.client.writeInbound(bytes)
        moved = true
      }
    }
    return counts
  }

  /// Closes without a peer to answer close_notify: the close timer has to run out.
  private func closeForcibly(_ channel: EmbeddedChannel) {
    let closed = Completion(channel.close())
    channel.embeddedEventLoop.advanceTime(by: .seconds(60))
    #expect(closed.isDone)
  }

  private func readAll(_ channel: EmbeddedChannel) throws -> [UInt8] {
    var bytes: [UInt8] = []
    while let buffer = try channel.readInbound(as: ByteBuffer.self) {
      bytes += buffer.readableBytesView
    }
    return bytes
  }

  @Test("one flush of several writes is one SSL_write and one network write")
  func coalescedFlush() throws {
    try withPKISync { pki in
      let pair = try self.makePair(pki)
      try self.shuttle(pair)

      var promises: [Completion] = []
      for part in ["header|", "message|", "trailers"] {
        promises.append(Completion(pair.client.write(ByteBuffer(string: part))))
      }
      pair.client.flush()
      let first = try #require(try pair.client.readOutbound(as: ByteBuffer.self))
      #expect(try pair.client.readOutbound(as: ByteBuffer.self) == nil)
      // One TLS 1.3 record: 5-byte header, 23 bytes of data, content type, 16-byte tag.
      #expect(first.readableBytes == 5 + 23 + 1 + 16)
      for promise in promises { #expect(promise.isDone) }

      try pair.server.writeInbound(first)
      #expect(try self.readAll(pair.server) == Array("header|message|trailers".utf8))
      self.closeForcibly(pair.client)
      self.closeForcibly(pair.server)
    }
  }

  @Test("writes made during the handshake leave with the client's last flight, data with it is read at once")
  func earlyWrites() throws {
    try withPKISync { pki in
      let pair = try self.makePair(pki)
      let early = Completion(pair.client.writeAndFlush(ByteBuffer(string: "early")))
      #expect(!early.isDone)

      // ClientHello out, server flight back.
      let hello = try #require(try pair.client.readOutbound(as: ByteBuffer.self))
      try pair.server.writeInbound(hello)
      while let flight = try pair.server.readOutbound(as: ByteBuffer.self) {
        try pair.client.writeInbound(flight)
      }
      // The client's certificate, Finished and the early data: one buffer.
      let last = try #require(try pair.client.readOutbound(as: ByteBuffer.self))
      #expect(try pair.client.readOutbound(as: ByteBuffer.self) == nil)
      #expect(early.isDone)
      // Delivered by the same read that completed the server's handshake.
      try pair.server.writeInbound(last)
      #expect(try self.readAll(pair.server) == Array("early".utf8))
      self.closeForcibly(pair.client)
      self.closeForcibly(pair.server)
    }
  }

  @Test("the handshake timeout fires an error and closes the channel")
  func handshakeTimeout() throws {
    try withPKISync { pki in
      var configuration = pki.serverConfiguration()
      configuration.handshakeTimeout = .seconds(5)
      let pair = try self.makePair(pki, server: configuration)
      pair.server.embeddedEventLoop.advanceTime(by: .seconds(4))
      #expect(pair.server.isActive)
      pair.server.embeddedEventLoop.advanceTime(by: .seconds(1))
      #expect(!pair.server.isActive)
      let error = try #require(throws: TLSError.self) { try pair.server.throwIfErrorCaught() }
      #expect(error.code == .handshakeTimeout)
      self.closeForcibly(pair.client)
    }
  }

  @Test("close sends close_notify and closes after the timeout when no answer comes")
  func closeTimeout() throws {
    try withPKISync { pki in
      var configuration = pki.serverConfiguration()
      configuration.closeNotifyTimeout = .seconds(3)
      let pair = try self.makePair(pki, server: configuration)
      try self.shuttle(pair)
      let closed = Completion(pair.server.close())
      let closeNotify = try #require(try pair.server.readOutbound(as: ByteBuffer.self))
      #expect(closeNotify.readableBytes > 0)
      #expect(!closed.isDone)
      // Writes after close are refused.
      let late = pair.server.writeAndFlush(ByteBuffer(string: "late"))
      #expect(throws: ChannelError.self) { try late.wait() }
      pair.server.embeddedEventLoop.advanceTime(by: .seconds(3))
      #expect(closed.isDone)
      #expect(!pair.server.isActive)
      self.closeForcibly(pair.client)
    }
  }

  @Test("a peer's close_notify is answered, and data before it is delivered")
  func answerCloseNotify() throws {
    try withPKISync { pki in
      let pair = try self.makePair(pki)
      try self.shuttle(pair)
      pair.client.write(ByteBuffer(string: "last words"), promise: nil)
      pair.client.flush()
      let closed = Completion(pair.client.close())
      // Data and close_notify arrive together.
      var wire = ByteBuffer()
      while var chunk = try pair.client.readOutbound(as: ByteBuffer.self) { wire.writeBuffer(&chunk) }
      try pair.server.writeInbound(wire)
      #expect(try self.readAll(pair.server) == Array("last words".utf8))
      #expect(!pair.server.isActive)
      let answer = try #require(try pair.server.readOutbound(as: ByteBuffer.self))
      try pair.client.writeInbound(answer)
      #expect(closed.isDone)
      #expect(!pair.client.isActive)
      // Let both channels tear their pipelines down.
      pair.client.embeddedEventLoop.run()
      pair.server.embeddedEventLoop.run()
    }
  }

  @Test("EOF without close_notify delivers what was read and is no error")
  func eofWithoutCloseNotify() throws {
    try withPKISync { pki in
      let pair = try self.makePair(pki)
      try self.shuttle(pair)
      pair.client.writeAndFlush(ByteBuffer(string: "complete record"), promise: nil)
      pair.client.writeAndFlush(ByteBuffer(string: "truncated record"), promise: nil)
      let whole = try #require(try pair.client.readOutbound(as: ByteBuffer.self))
      var truncated = try #require(try pair.client.readOutbound(as: ByteBuffer.self))
      // One whole record and half of the next, then the TCP connection ends.
      pair.server.pipeline.fireChannelRead(whole)
      pair.server.pipeline.fireChannelRead(truncated.readSlice(length: truncated.readableBytes / 2) ?? ByteBuffer())
      pair.server.pipeline.fireChannelInactive()
      #expect(try self.readAll(pair.server) == Array("complete record".utf8))
      try pair.server.throwIfErrorCaught()
      self.closeForcibly(pair.server)
      self.closeForcibly(pair.client)
    }
  }
}
