// The State Council holiday notices for 2024–2026, as docs/DOMAIN.md §4 tabulates them.
// Shipped as source rather than a bundle resource so that the core needs no file I/O.

extension CalendarYearData {
  /// The years the project ships; the office imports later years.
  public static let shipped: [CalendarYearData] = [year2024, year2025, year2026]

  static let year2024 = CalendarYearData(
    shippedYear: 2024,
    holidays: [
      (1, [1]),
      (2, [12, 13, 14, 15, 16]),  // Spring Festival
      (4, [4, 5]),  // Qingming
      (5, [1, 2, 3]),  // Labour Day
      (6, [10]),  // Dragon Boat
      (9, [16, 17]),  // Mid-Autumn
      (10, [1, 2, 3, 4, 7]),  // National Day
    ],
    makeUpWorkdays: [(2, [4, 18]), (4, [7, 28]), (5, [11]), (9, [14, 29]), (10, [12])]
  )

  static let year2025 = CalendarYearData(
    shippedYear: 2025,
    holidays: [
      (1, [1, 28, 29, 30, 31]),  // New Year; Spring Festival
      (2, [3, 4]),
      (4, [4]),
      (5, [1, 2, 5]),
      (6, [2]),
      (10, [1, 2, 3, 6, 7, 8]),  // National Day and Mid-Autumn
    ],
    makeUpWorkdays: [(1, [26]), (2, [8]), (4, [27]), (9, [28]), (10, [11])]
  )

  static let year2026 = CalendarYearData(
    shippedYear: 2026,
    holidays: [
      (1, [1, 2]),
      (2, [16, 17, 18, 19, 20, 23]),  // Spring Festival
      (4, [6]),
      (5, [1, 4, 5]),
      (6, [19]),
      (9, [25]),  // Mid-Autumn
      (10, [1, 2, 5, 6, 7]),  // National Day
    ],
    makeUpWorkdays: [(1, [4]), (2, [14, 28]), (5, [9]), (9, [20]), (10, [10])]
  )
}
