import ArgumentParser
import Foundation

/// `banjie profile`: a clerk's connection settings in one file, so that every later command is
/// just `banjie --profile NAME …` (or `BANJIE_PROFILE=NAME`).
struct ProfileCommand: AsyncParsableCommand {
  static let configuration = CommandConfiguration(
    commandName: "profile", abstract: t("profile.abstract"), subcommands: [Init.self, Show.self])
}

extension ProfileCommand {
  struct Init: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("profile.init.abstract"), discussion: t("profile.init.discussion"))

    @Option(name: .long, help: ArgumentHelp(t("profile.help.name"))) var name = "default"
    @Option(name: .long, help: ArgumentHelp(t("profile.help.server"))) var server = "127.0.0.1:7443"
    @Option(name: .long, help: ArgumentHelp(t("profile.help.ca"))) var ca: String
    @Option(name: .long, help: ArgumentHelp(t("profile.help.cert"))) var cert: String
    @Option(name: .long, help: ArgumentHelp(t("profile.help.key"))) var key: String
    @Option(name: .long, help: ArgumentHelp(t("profile.help.language"))) var language: String?
    @Flag(name: .long, help: ArgumentHelp(t("profile.help.force"))) var force = false

    func validate() throws {
      guard !self.name.isEmpty, self.name.allSatisfy({ $0.isLetter || $0.isNumber || $0 == "-" || $0 == "_" }) else {
        throw ValidationError(t("profile.error.badName", self.name))
      }
      if let language = self.language, Language.parse(language) == nil {
        throw ValidationError(t("profile.error.badLanguage", language))
      }
    }

    func run() async throws {
      let cwd = FileManager.default.currentDirectoryPath
      func absolute(_ path: String) throws -> String {
        let full = path.hasPrefix("/") ? path : cwd + "/" + path
        guard FileManager.default.isReadableFile(atPath: full) else {
          throw CLIError(exitCode: 66, message: t("profile.error.unreadable", full))
        }
        return URL(fileURLWithPath: full).standardizedFileURL.path
      }
      let values: [(String, String)] =
        [
          ("server", Normalize.text(self.server)), ("ca", try absolute(self.ca)), ("cert", try absolute(self.cert)),
          ("key", try absolute(self.key)),
        ] + (self.language.flatMap(Language.parse).map { [("lang", $0.rawValue)] } ?? [])
      let text = "# banjie profile \(self.name)\n" + values.map { "\($0.0) = \(Self.tomlString($0.1))" }.joined(separator: "\n") + "\n"
      let path = ConnectionOptions.profilePath(self.name)
      if FileManager.default.fileExists(atPath: path) && !self.force {
        throw CLIError(exitCode: 73, message: t("profile.error.exists", path))
      }
      try FileOutput.write(text, to: path, createDirectories: true, permissions: 0o600)
      print(t("profile.written", path, self.name))
    }

    /// A TOML basic string.
    static func tomlString(_ value: String) -> String {
      var out = "\""
      for scalar in value.unicodeScalars {
        switch scalar {
        case "\"": out += "\\\""
        case "\\": out += "\\\\"
        case "\n": out += "\\n"
        case "\t": out += "\\t"
        default:
          if scalar.value < 0x20 { out += String(format: "\\u%04X", scalar.value) } else { out.unicodeScalars.append(scalar) }
        }
      }
      return out + "\""
    }
  }

  struct Show: AsyncParsableCommand {
    static let configuration = CommandConfiguration(abstract: t("profile.show.abstract"))
    @Argument(help: ArgumentHelp(t("profile.help.name"))) var name = "default"

    func run() async throws {
      let path = ConnectionOptions.profilePath(self.name)
      guard let text = try? String(contentsOfFile: path, encoding: .utf8) else {
        throw CLIError(exitCode: 66, message: t("profile.error.missing", path))
      }
      print(t("profile.file", path))
      print(text, terminator: text.hasSuffix("\n") ? "" : "\n")
    }
  }
}

/// Files the CLI writes (profiles, reports, documents, CSV): written to a temporary file in the
/// same folder and renamed over the target, so a failure never leaves a half-written file.
enum FileOutput {
  static func write(_ text: String, to path: String, createDirectories: Bool = false, permissions: Int? = nil) throws {
    try Self.write(Data(text.utf8), to: path, createDirectories: createDirectories, permissions: permissions)
  }

  static func write(_ data: Data, to path: String, createDirectories: Bool = false, permissions: Int? = nil) throws {
    let url = URL(fileURLWithPath: path)
    let folder = url.deletingLastPathComponent()
    do {
      if createDirectories { try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true) }
      let temporary = folder.appendingPathComponent(".\(url.lastPathComponent).\(UUID().uuidString).tmp")
      try data.write(to: temporary)
      if let permissions { try FileManager.default.setAttributes([.posixPermissions: permissions], ofItemAtPath: temporary.path) }
      guard rename(temporary.path, url.path) == 0 else {
        let reason = String(cString: strerror(errno))
        try? FileManager.default.removeItem(at: temporary)
        throw CLIError(exitCode: 73, message: t("output.error.cannotWrite", path, reason))
      }
    } catch let error as CLIError {
      throw error
    } catch {
      throw CLIError(exitCode: 73, message: t("output.error.cannotWrite", path, error.localizedDescription))
    }
  }
}
