import ArgumentParser
import BanjieConfig
import BanjieCore
import BanjieTLS
import BanjieTransport
import Foundation
import GRPCCore

/// How to reach banjied and who we are: flags, then the profile, then the environment.
struct ConnectionOptions: ParsableArguments {
  @Option(name: .long, help: "Server address host:port (env BANJIE_SERVER; default 127.0.0.1:7443).")
  var server: String?

  @Option(name: .long, help: "The county CA certificate that signed the server's (env BANJIE_CA).")
  var ca: String?

  @Option(name: .long, help: "Your client certificate (env BANJIE_CERT).")
  var cert: String?

  @Option(name: .long, help: "Your private key (env BANJIE_KEY).")
  var key: String?

  @Option(name: .long, help: "Name the server certificate must carry, if not the host in --server.")
  var serverName: String?

  @Option(name: .long, help: "Profile: a NAME under ~/.config/banjie/NAME.profile or a file path (env BANJIE_PROFILE).")
  var profile: String?

  @Option(name: .long, help: "Seconds to wait for each call (default 30).")
  var timeout: Double = 30

  struct Resolved {
    var host: String
    var port: Int
    var serverName: String?
    var ca: String
    var cert: String
    var key: String
  }

  func resolve() throws -> Resolved {
    let env = ProcessInfo.processInfo.environment
    var profileValues: [String: String] = [:]
    if let profile = self.profile ?? env["BANJIE_PROFILE"] {
      let path = profile.contains("/") ? profile : (env["HOME"] ?? ".") + "/.config/banjie/\(profile).profile"
      guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        throw ValidationError("cannot read profile \(path)")
      }
      let file = try ConfigurationFile(parsing: text)
      for (key, value) in file.values {
        if case .string(let s) = value { profileValues[key] = s }
      }
    }
    func pick(_ flag: String?, _ profileKey: String, _ envKey: String) -> String? {
      flag ?? profileValues[profileKey] ?? env[envKey]
    }
    let server = pick(self.server, "server", "BANJIE_SERVER") ?? "127.0.0.1:7443"
    guard let colon = server.lastIndex(of: ":"), let port = Int(server[server.index(after: colon)...]), (1...65535).contains(port) else {
      throw ValidationError("server address \"\(server)\" must be host:port")
    }
    var host = String(server[..<colon])
    if host.hasPrefix("[") && host.hasSuffix("]") { host = String(host.dropFirst().dropLast()) }
    guard let ca = pick(self.ca, "ca", "BANJIE_CA") else {
      throw ValidationError("no CA certificate: give --ca, BANJIE_CA or a profile (make one with `banjie certs init`)")
    }
    guard let cert = pick(self.cert, "cert", "BANJIE_CERT"), let key = pick(self.key, "key", "BANJIE_KEY") else {
      throw ValidationError(
        "no client certificate: give --cert and --key, BANJIE_CERT and BANJIE_KEY, or a profile (make one with `banjie certs issue`)")
    }
    return Resolved(host: host, port: port, serverName: self.serverName ?? profileValues["server_name"], ca: ca, cert: cert, key: key)
  }

  var callOptions: CallOptions {
    var options = CallOptions.defaults
    options.timeout = .milliseconds(Int64(self.timeout * 1000))
    return options
  }

  /// Runs `body` with a connected client. An `RPCError` it throws reaches `Banjie.main`, which
  /// turns it into a `CLIError` with the documented exit code.
  func withClient<R: Sendable>(_ body: (GRPCClient<BanjieClientTransport>, BanjieClientTransport, Resolved) async throws -> R) async throws
    -> R
  {
    let resolved = try self.resolve()
    let tls: TLSContext
    do {
      tls = try TLSContext(
        configuration: .client(certificateChainFile: resolved.cert, privateKeyFile: resolved.key, trustRootsFile: resolved.ca))
    } catch {
      throw CLIError(exitCode: 64, message: "cannot load certificate files: \(error)")
    }
    var config = BanjieClientTransport.Config(host: resolved.host, port: resolved.port, tls: tls)
    config.serverName = resolved.serverName
    let transport = BanjieClientTransport(config: config)
    return try await withGRPCClient(transport: transport) { client in
      try await body(client, transport, resolved)
    }
  }
}

/// A failure with the exit code the help text documents. Commands throw it (or an `RPCError`,
/// which `init(rpc:)` converts); `Banjie.main` prints "banjie: <message>" to standard error and
/// exits with `exitCode`.
struct CLIError: Error, CustomStringConvertible {
  var exitCode: Int32
  var message: String
  var description: String { self.message }

  init(exitCode: Int32, message: String) {
    self.exitCode = exitCode
    self.message = message
  }

  init(rpc error: RPCError) {
    self.message = "\(error.code): \(error.message)"
    // The server's id for this call, to quote when asking about it (its log lines carry it).
    if let requestID = error.metadata[stringValues: "x-request-id"].first(where: { _ in true }), !error.message.contains(requestID) {
      self.message += " [request id \(requestID)]"
    }
    switch error.code {
    case .invalidArgument, .failedPrecondition, .notFound, .alreadyExists, .aborted, .outOfRange, .resourceExhausted:
      self.exitCode = 65
    case .unavailable, .deadlineExceeded, .cancelled:
      self.exitCode = 69
    case .permissionDenied, .unauthenticated:
      self.exitCode = 77
    default:
      self.exitCode = 70
    }
  }
}
