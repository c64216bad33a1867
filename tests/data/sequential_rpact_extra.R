# Extra group-sequential and survival-planning references for teachkit's tests.
# Run from this folder:  Rscript sequential_rpact_extra.R > sequential_rpact_extra.json
# Needs R with rpact (Debian: apt-get install r-cran-rpact). No other package:
# the JSON is written by hand-rolled helpers below.
suppressMessages(library(rpact))

num <- function(x) {
  if (length(x) == 0) return("[]")
  s <- ifelse(is.infinite(x), ifelse(x > 0, "\"Infinity\"", "\"-Infinity\""),
              ifelse(is.na(x), "null", sprintf("%.15g", x)))
  if (length(x) == 1) s else paste0("[", paste(s, collapse = ", "), "]")
}
obj <- function(...) {
  v <- list(...)
  paste0("{", paste(sprintf("\"%s\": %s", names(v), unlist(v)), collapse = ", "), "}")
}
str1 <- function(x) sprintf("\"%s\"", x)

design_case <- function(design, beta) {
  ch <- getDesignCharacteristics(design)
  obj(type = str1(design$typeOfDesign), info = num(design$informationRates),
      gammaA = num(design$gammaA), beta = num(beta),
      futility = num(design$futilityBounds),
      binding = str1(design$bindingFutility),
      crit = num(design$criticalValues), stage_levels = num(design$stageLevels),
      alpha_spent = num(design$alphaSpent), shift = num(ch$shift),
      inflation = num(ch$inflationFactor), power = num(ch$power),
      futility_probabilities = num(ch$futilityProbabilities),
      asn1 = num(ch$averageSampleNumber1), asn0 = num(ch$averageSampleNumber0))
}

uneven10 <- c(0.05, 0.1, 0.2, 0.3, 0.45, 0.5, 0.6, 0.75, 0.9, 1)
# futility bounds of the trial: drift(131 events, HR 0.58) * sqrt(t) - qnorm(1 - 0.024)
drift131 <- -log(0.58) * sqrt(131 / 4)
fut <- drift131 * sqrt(c(1, 2) / 3) - qnorm(1 - 0.024)

cases <- list(
  asHSD_3_equal_gamma_m4 = design_case(getDesignGroupSequential(
    kMax = 3, typeOfDesign = "asHSD", gammaA = -4, alpha = 0.025, beta = 0.15), 0.15),
  asHSD_5_equal_gamma_1 = design_case(getDesignGroupSequential(
    kMax = 5, typeOfDesign = "asHSD", gammaA = 1, alpha = 0.025, beta = 0.2), 0.2),
  asKD_4_equal_rho_3 = design_case(getDesignGroupSequential(
    kMax = 4, typeOfDesign = "asKD", gammaA = 3, alpha = 0.025, beta = 0.1), 0.1),
  asOF_10_uneven = design_case(getDesignGroupSequential(
    informationRates = uneven10, typeOfDesign = "asOF", alpha = 0.025, beta = 0.15), 0.15),
  asP_10_uneven = design_case(getDesignGroupSequential(
    informationRates = uneven10, typeOfDesign = "asP", alpha = 0.025, beta = 0.2), 0.2),
  P_5_equal = design_case(getDesignGroupSequential(
    kMax = 5, typeOfDesign = "P", alpha = 0.025, beta = 0.2), 0.2),
  OF_4_uneven = design_case(getDesignGroupSequential(
    informationRates = c(0.2, 0.5, 0.7, 1), typeOfDesign = "OF", alpha = 0.025, beta = 0.15), 0.15),
  asOF_3_equal_futility_nonbinding = design_case(getDesignGroupSequential(
    kMax = 3, typeOfDesign = "asOF", alpha = 0.025, beta = 0.15,
    futilityBounds = fut, bindingFutility = FALSE), 0.15),
  asOF_3_equal_futility_binding = design_case(getDesignGroupSequential(
    kMax = 3, typeOfDesign = "asOF", alpha = 0.025, beta = 0.15,
    futilityBounds = fut, bindingFutility = TRUE), 0.15)
)

# Survival planning (time unit: years)
lambda2 <- -log(0.45) / 2
fixed <- getDesignGroupSequential(kMax = 1, alpha = 0.025, beta = 0.15)
gs3 <- getDesignGroupSequential(kMax = 3, typeOfDesign = "asOF", alpha = 0.025, beta = 0.15)
ss_fixed <- getSampleSizeSurvival(fixed, hazardRatio = 0.58, lambda2 = lambda2)
ss_freedman <- getSampleSizeSurvival(fixed, hazardRatio = 0.58, lambda2 = lambda2,
                                     typeOfComputation = "Freedman")
ss_21 <- getSampleSizeSurvival(fixed, hazardRatio = 0.58, lambda2 = lambda2,
                               allocationRatioPlanned = 2)
ss_gs <- getSampleSizeSurvival(gs3, hazardRatio = 0.58, lambda2 = lambda2,
                               accrualTime = c(0, 4.5), maxNumberOfSubjects = 220)
times <- c(1, 2, 3, 4, 4.5, 5, 5.5, 6, 8)
ep <- getEventProbabilities(times, accrualTime = c(0, 4.5), maxNumberOfSubjects = 220,
                            lambda2 = lambda2, hazardRatio = 0.58)
# piecewise exponential: the control hazard up to 2 years, a tenth of it afterwards
ep_pw <- getEventProbabilities(times, accrualTime = c(0, 4.5), maxNumberOfSubjects = 220,
                               piecewiseSurvivalTime = c(0, 2),
                               lambda2 = c(lambda2, lambda2 / 10), hazardRatio = 0.58)
ep_drop <- getEventProbabilities(times, accrualTime = c(0, 4.5), maxNumberOfSubjects = 220,
                                 lambda2 = lambda2, hazardRatio = 0.58,
                                 dropoutRate1 = 0.05, dropoutRate2 = 0.05, dropoutTime = 1)

survival <- obj(
  lambda2 = num(lambda2),
  events_fixed_schoenfeld = num(ss_fixed$maxNumberOfEvents),
  events_fixed_freedman = num(ss_freedman$maxNumberOfEvents),
  events_fixed_allocation_2to1 = num(ss_21$maxNumberOfEvents),
  gs3_events = num(ss_gs$maxNumberOfEvents),
  gs3_follow_up_time = num(ss_gs$followUpTime),
  gs3_analysis_times = num(ss_gs$analysisTime[, 1]),
  gs3_events_per_stage = num(ss_gs$eventsPerStage[, 1]),
  gs3_expected_events_h1 = num(ss_gs$expectedEventsH1),
  gs3_crit_effect_scale = num(ss_gs$criticalValuesEffectScale[, 1]),
  times = num(times),
  expected_events = num(ep$overallEventProbabilities * 220),
  expected_events_piecewise = num(ep_pw$overallEventProbabilities * 220),
  expected_events_dropout = num(ep_drop$overallEventProbabilities * 220)
)

# Conditional power at the AALL1331 interim (80 of 131 events, one-sided P = .06), two-look
# design (80/131, 1); rpact's log-rank sign: negative when HR < 1.
d_int <- getDesignGroupSequential(informationRates = c(80 / 131, 1), typeOfDesign = "asOF", alpha = 0.025)
z_int <- qnorm(1 - 0.06)
sr <- getStageResults(d_int, dataInput = getDataset(overallEvents = 80, overallLogRanks = -z_int,
                                                     overallAllocationRatios = 1),
                      directionUpper = FALSE)
cp_design <- getConditionalPower(sr, nPlanned = 51, thetaH1 = 0.58)$conditionalPower[2]
cp_trend <- getConditionalPower(sr, nPlanned = 51, thetaH1 = exp(-2 * z_int / sqrt(80)))$conditionalPower[2]
interim <- obj(z = num(z_int), crit = num(d_int$criticalValues),
               conditional_power_hr058 = num(cp_design), conditional_power_trend = num(cp_trend))

# Power with 131 events and the futility rule obeyed (rpact's power includes futility stops)
power131 <- function(info, type) {
  scale <- if (type == "Schoenfeld") -log(0.58) / 2 else (1 - 0.58) / (1 + 0.58)
  bounds <- scale * sqrt(131) * sqrt(info[-length(info)]) - qnorm(1 - 0.024)
  with_rule <- getDesignGroupSequential(informationRates = info, typeOfDesign = "asOF",
                                        alpha = 0.025, futilityBounds = bounds)
  no_rule <- getDesignGroupSequential(informationRates = info, typeOfDesign = "asOF", alpha = 0.025)
  c(getPowerSurvival(with_rule, maxNumberOfEvents = 131, maxNumberOfSubjects = 220, accrualTime = c(0, 4.5), hazardRatio = 0.58, lambda2 = lambda2,
                     typeOfComputation = type, directionUpper = FALSE)$overallReject,
    getPowerSurvival(no_rule, maxNumberOfEvents = 131, maxNumberOfSubjects = 220, accrualTime = c(0, 4.5), hazardRatio = 0.58, lambda2 = lambda2,
                     typeOfComputation = type, directionUpper = FALSE)$overallReject)
}
power_131 <- obj(schoenfeld_equal = num(power131(c(1, 2, 3) / 3, "Schoenfeld")),
                 schoenfeld_half = num(power131(c(0.5, 0.75, 1), "Schoenfeld")),
                 freedman_equal = num(power131(c(1, 2, 3) / 3, "Freedman")),
                 freedman_half = num(power131(c(0.5, 0.75, 1), "Freedman")))

# Events with the futility rule as a fixed point: the rule's drift is the design effect at D
# events, and D is what rpact asks for given that rule; iterate D <- events(rule(D)).
events_fixed_point <- function(info, type, binding) {
  scale <- if (type == "Schoenfeld") -log(0.58) / 2 else (1 - 0.58) / (1 + 0.58)
  d <- 131
  for (i in 1:30) {
    bounds <- scale * sqrt(d) * sqrt(info[-length(info)]) - qnorm(1 - 0.024)
    design <- getDesignGroupSequential(informationRates = info, typeOfDesign = "asOF", alpha = 0.025,
                                       beta = 0.15, futilityBounds = bounds, bindingFutility = binding)
    d <- getSampleSizeSurvival(design, hazardRatio = 0.58, lambda2 = lambda2,
                               typeOfComputation = type)$maxNumberOfEvents
  }
  d
}
events_futility <- obj(
  schoenfeld_equal_nonbinding = num(events_fixed_point(c(1, 2, 3) / 3, "Schoenfeld", FALSE)),
  schoenfeld_equal_binding = num(events_fixed_point(c(1, 2, 3) / 3, "Schoenfeld", TRUE)),
  freedman_equal_binding = num(events_fixed_point(c(1, 2, 3) / 3, "Freedman", TRUE)),
  freedman_half_nonbinding = num(events_fixed_point(c(0.5, 0.75, 1), "Freedman", FALSE)))

about <- paste0("Computed by tests/data/sequential_rpact_extra.R with R ", getRversion(),
                " and rpact ", packageVersion("rpact"),
                ". One-sided alpha 0.025. Design cases: getDesignGroupSequential + ",
                "getDesignCharacteristics (crit = Z boundaries, alpha_spent cumulative, ",
                "shift = drift^2 for power 1-beta, power cumulative, asn = expected ",
                "information relative to the fixed design). survival: getSampleSizeSurvival ",
                "and getEventProbabilities, time unit years, control hazard -log(0.45)/2, HR 0.58, ",
                "220 patients accrued uniformly over 4.5 years; dropout case: 5% per year in each arm. ",
                "interim: getConditionalPower at 80/131 events, P = .06, design (80/131, 1), ",
                "thetaH1 = HR 0.58 (design) or the observed HR exp(-2 z / sqrt(80)) (trend). ",
                "power_131: getPowerSurvival overallReject with 131 events, HR 0.58, O'Brien-Fleming-type looks ",
                "(equal = 1/3, 2/3, 1; half = 1/2, 3/4, 1), [futility at .024 obeyed, no futility rule], ",
                "Schoenfeld or Freedman drift. events_futility: getSampleSizeSurvival maxNumberOfEvents ",
                "iterated to the fixed point where the futility rule's drift is the design effect at those events.")
cat("{\n", sprintf("\"_about\": \"%s\",\n", about),
    paste(sprintf("\"%s\": %s", names(cases), unlist(cases)), collapse = ",\n"),
    ",\n\"survival\": ", survival, ",\n\"interim\": ", interim, ",\n\"power_131\": ", power_131, ",\n\"events_futility\": ", events_futility, "\n}\n", sep = "")
