// setup.mjs: the browser-ish environment Grafana's data layer expects, set up before any of
// its modules is evaluated (check.mjs imports this file first).
//  - @grafana/data reads navigator.languages for date formats; Node before 21 has no navigator.
//  - i18next (through @grafana/i18n) prints an advertisement on first use unless told not to.
if (typeof globalThis.navigator === 'undefined') {
  globalThis.navigator = { language: 'en-US', languages: ['en-US'] };
}
process.env.I18NEXT_NO_SUPPORT_NOTICE = '1';
