function(feature, layer) {
  var p = feature.properties;
  if (p.s) { L.Util.setOptions(layer, p.s); }
  if (p.popup) { layer.bindPopup(p.popup, {maxWidth: 320, minWidth: 220}); }
  if (p.label) {
    layer.bindTooltip(p.label, {permanent: true, direction: 'center',
                                className: p.lc || 'hs-label', interactive: false});
  } else if (p.tip) { layer.bindTooltip(p.tip, {sticky: true}); }
}
