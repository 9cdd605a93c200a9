/* 粤监管 dossier page: the small map of the surroundings, my position on it, navigation links.
 * Everything else on the page is rendered (and escaped) by the server.
 */
(function () {
  "use strict";
  const ZT = window.ZT;
  const article = ZT.$("zt-dossier");
  if (!article) return;
  const lon = Number(article.dataset.lon), lat = Number(article.dataset.lat);
  const map = new ZT.FieldMap(ZT.$("zt-entity-map"), { center: [lon, lat], zoom: 16 });
  map.setTarget(lon, lat);
  ZT.renderNavLinks(ZT.$("zt-nav-links"), lon, lat, article.dataset.name);
  // an old rendering is the offline copy the service worker kept: say when it was made
  const rendered = Date.parse(article.dataset.rendered);
  if (rendered && Date.now() - rendered > 5 * 60 * 1000) ZT.banner(`离线副本：${ZT.time(rendered)} 保存，可能已过期`);
  ZT.locate(60000).then((fix) => map.setMe(fix), () => {});
})();
